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
    serve_json(move |_, body| respond(body))
}

/// Starts a stub for JSON-protocol services: `respond(X-Amz-Target, body)`.
pub fn serve_json(respond: impl Fn(&str, &str) -> (u16, String) + Send + 'static) -> String {
    serve_raw(move |head, body| {
        let (status, body) = respond(&target_of(head), &String::from_utf8_lossy(body));
        Reply::Made(status, body)
    })
}

/// What a stub answers a request with.
pub enum Reply {
    /// A response made here: status and body.
    Made(u16, String),
    /// A whole HTTP response, as received from elsewhere.
    Raw(Vec<u8>),
}

/// The `X-Amz-Target` header of a request head.
pub fn target_of(head: &str) -> String {
    head.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("x-amz-target:")
                .then(|| l["x-amz-target:".len()..].trim().to_owned())
        })
        .unwrap_or_default()
}

/// Starts a stub that gets each request's head (request line and headers) and body.
pub fn serve_raw(respond: impl Fn(&str, &[u8]) -> Reply + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut request_body = vec![0; length];
            let _ = reader.read_exact(&mut request_body);
            match respond(&head, &request_body) {
                Reply::Made(status, body) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} Stub\r\nContent-Type: text/xml\r\nx-amzn-RequestId: stub-request-1\r\n\
                         Content-Length: {}\r\n\
                         Connection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
                Reply::Raw(bytes) => {
                    let _ = stream.write_all(&bytes);
                }
            }
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// Sends a request on, unchanged (moto checks no signature), to `endpoint`
/// (`http://host:port`), and returns the whole response.
pub fn forward(endpoint: &str, head: &str, body: &[u8]) -> Vec<u8> {
    let address = endpoint.trim_start_matches("http://");
    let mut upstream = std::net::TcpStream::connect(address).unwrap();
    let head: String = head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    upstream.write_all(head.as_bytes()).unwrap();
    upstream.write_all(b"Connection: close\r\n\r\n").unwrap();
    upstream.write_all(body).unwrap();
    let mut response = Vec::new();
    let _ = upstream.read_to_end(&mut response);
    response
}

/// An EC2 error response with the given code.
pub fn ec2_error(code: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code>\
         <Message>{message}</Message></Error></Errors><RequestID>stub-request-1</RequestID></Response>"
    )
}

/// An EC2 `DescribeInstances` answer with one running Security Server.
pub fn ec2_one_instance(id: &str, name: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
         <requestId>stub-request-1</requestId><reservationSet><item><reservationId>r-1</reservationId>\
         <instancesSet><item><instanceId>{id}</instanceId>\
         <instanceState><code>16</code><name>running</name></instanceState>\
         <tagSet><item><key>Name</key><value>{name}</value></item>\
         <item><key>Role</key><value>xroad-security-server</value></item></tagSet>\
         </item></instancesSet></item></reservationSet></DescribeInstancesResponse>"
    )
}

/// A successful EC2 answer with no data (e.g. `CreateTagsResponse`).
pub fn ec2_ok(element: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><{element} \
         xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>stub-request-1</requestId>\
         <return>true</return></{element}>"
    )
}
