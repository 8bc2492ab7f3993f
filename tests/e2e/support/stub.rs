//! A loopback HTTP stub answering requests with fixed responses. Used only for failures the
//! emulator cannot produce (expired or denied credentials and permissions: moto checks
//! neither signatures, expiry nor IAM outside its IAM-enforcing mode).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

/// Starts the stub; returns its `http://127.0.0.1:PORT` endpoint. It lives until the
/// test process exits.
pub fn serve(status: u16, body: String) -> String {
    serve_with(move |_| (status, body.clone()))
}

/// Starts a stub that answers each request with `respond(request body)`.
pub fn serve_with(respond: impl Fn(&str) -> (u16, String) + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut request_body = vec![0; length];
            let _ = reader.read_exact(&mut request_body);
            let (status, body) = respond(&String::from_utf8_lossy(&request_body));
            let _ = write!(
                stream,
                "HTTP/1.1 {status} Stub\r\nContent-Type: text/xml\r\nx-amzn-RequestId: stub-request-1\r\n\
                 Content-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// An EC2 error response with the given code.
pub fn ec2_error(code: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code>\
         <Message>{message}</Message></Error></Errors><RequestID>stub-request-1</RequestID></Response>"
    )
}
