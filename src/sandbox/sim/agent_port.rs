//! The sandbox agent's port forwarding, as the SSM agent's port plugin does it
//! (amazon-ssm-agent `agent/session/plugins/port/`): with a client that multiplexes, an smux
//! v1 server over the channel that dials the port for every stream the client opens (a
//! `ConnectToPortError` flag when nothing answers); with an older agent version, one
//! connection dialled at the start, closed on `DisconnectToPort` or when it ends, and dialled
//! again on the next data. Either ends on a `TerminateSession` flag. The port is one the
//! sandbox was told to serve (`Simulator::serve_port`): the sandbox never dials a port of
//! this machine it was not given.

use std::net::SocketAddr;

use async_smux::MuxBuilder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::agent::{Backend, BackendInput, Out};
use crate::datachannel::PayloadType;
use crate::datachannel::client::INPUT_CHUNK;
use crate::datachannel::forward::read_some;
use crate::datachannel::payload::flag;

/// The in-process pipe between the smux server and the channel.
const MUX_PIPE: usize = 64 * 1024;

/// Starts forwarding to `to` (`None`: nothing listens there).
pub fn start(mux: bool, to: Option<SocketAddr>, output: mpsc::Sender<Out>) -> Backend {
    let (input, inputs) = mpsc::unbounded_channel();
    if mux {
        tokio::spawn(multiplexed(to, inputs, output));
    } else {
        tokio::spawn(basic(to, inputs, output));
    }
    Backend { child: None, input }
}

async fn dial(to: Option<SocketAddr>) -> std::io::Result<TcpStream> {
    match to {
        Some(address) => TcpStream::connect(address).await,
        None => Err(std::io::ErrorKind::ConnectionRefused.into()),
    }
}

/// One connection at a time.
async fn basic(
    to: Option<SocketAddr>,
    mut inputs: mpsc::UnboundedReceiver<BackendInput>,
    output: mpsc::Sender<Out>,
) {
    let unable =
        |err: std::io::Error| Out::Ended(format!("Unable to connect to specified port: {err}"));
    let mut conn = match dial(to).await {
        Ok(conn) => Some(conn),
        Err(err) => {
            let _ = output.send(unable(err)).await;
            return;
        }
    };
    let mut buffer = vec![0; INPUT_CHUNK];
    loop {
        tokio::select! {
            input = inputs.recv() => match input {
                None | Some(BackendInput::Flag(flag::TERMINATE_SESSION)) => break,
                Some(BackendInput::Flag(flag::DISCONNECT_TO_PORT)) => conn = None,
                Some(BackendInput::Bytes(bytes)) => {
                    if conn.is_none() {
                        match dial(to).await {
                            Ok(fresh) => conn = Some(fresh),
                            Err(err) => {
                                let _ = output.send(unable(err)).await;
                                return;
                            }
                        }
                    }
                    if let Some(stream) = conn.as_mut()
                        && stream.write_all(&bytes).await.is_err()
                    {
                        conn = None;
                    }
                }
                Some(_) => {}
            },
            // The port closed its side: dial again when the client sends more.
            read = read_some(&mut conn, &mut buffer) => match read {
                Ok(n) if n > 0 => {
                    let chunk = Out::Stream(PayloadType::Output, buffer[..n].to_vec());
                    if output.send(chunk).await.is_err() {
                        break;
                    }
                }
                _ => conn = None,
            },
        }
    }
}

/// Any number of connections, one smux stream each.
async fn multiplexed(
    to: Option<SocketAddr>,
    mut inputs: mpsc::UnboundedReceiver<BackendInput>,
    output: mpsc::Sender<Out>,
) {
    let (ours, carrier) = tokio::io::duplex(MUX_PIPE);
    let (_connector, mut acceptor, worker) = MuxBuilder::server().with_connection(ours).build();
    let worker = tokio::spawn(worker);
    let (mut from_mux, mut to_mux) = tokio::io::split(carrier);
    // The client's bytes into the smux server, in order, off the main loop.
    let (bytes_tx, mut bytes_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        while let Some(bytes) = bytes_rx.recv().await {
            if to_mux.write_all(&bytes).await.is_err() {
                break;
            }
        }
    });
    let mut buffer = vec![0; INPUT_CHUNK];
    loop {
        tokio::select! {
            input = inputs.recv() => match input {
                None | Some(BackendInput::Flag(flag::TERMINATE_SESSION)) => break,
                Some(BackendInput::Bytes(bytes)) => {
                    if bytes_tx.send(bytes).is_err() {
                        break;
                    }
                }
                Some(_) => {}
            },
            read = from_mux.read(&mut buffer) => match read {
                Ok(n) if n > 0 => {
                    let chunk = Out::Stream(PayloadType::Output, buffer[..n].to_vec());
                    if output.send(chunk).await.is_err() {
                        break;
                    }
                }
                _ => break,
            },
            stream = acceptor.accept() => {
                let Some(mut stream) = stream else { break };
                match dial(to).await {
                    Ok(mut conn) => {
                        tokio::spawn(async move {
                            let _ = tokio::io::copy_bidirectional(&mut stream, &mut conn).await;
                        });
                    }
                    Err(_) => {
                        let refused = flag::CONNECT_TO_PORT_ERROR.to_be_bytes().to_vec();
                        if output.send(Out::Stream(PayloadType::Flag, refused)).await.is_err() {
                            break;
                        }
                    }
                }
            }
        }
    }
    writer.abort();
    worker.abort();
}
