//! Session Manager sessions in the sandbox, end to end with the real Rust SDK and the native
//! data-channel client: StartSession → websocket → handshake → a real shell on a PTY; input,
//! output and resize; lost, duplicated and reordered frames; a cut connection resumed with
//! ResumeSession; exit closes the channel; TerminateSession ends a session; errors for
//! targets that are offline or unknown; KMS-encrypted sessions with a key in the emulator's
//! KMS (the client generates the data key, the sandbox agent decrypts it and challenges).

use crate::support;

use std::time::Duration;

use crate::support::{Account, REGION};
use breakglass::aws::{SessionApi, SessionResumer, SsmApi};
use breakglass::datachannel::client::{Channel, ChannelEvent, Endpoint, SessionKind};
use breakglass::datachannel::payload::Size;
use breakglass::sandbox::{Fault, FaultKind, ManagedInstance, Simulator};

struct Shell {
    channel: Channel,
    output: String,
    events: Vec<ChannelEvent>,
}

impl Shell {
    /// Reads events until the output contains `text`.
    async fn until(&mut self, text: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !self.output.contains(text) {
            let event = tokio::time::timeout_at(deadline, self.channel.next())
                .await
                .unwrap_or_else(|_| panic!("no {text:?} in {:?}", self.output))
                .expect("channel ended");
            self.take(event);
        }
    }

    fn take(&mut self, event: ChannelEvent) {
        if let ChannelEvent::Output(bytes) = &event {
            self.output.push_str(&String::from_utf8_lossy(bytes));
        }
        self.events.push(event);
    }

    /// Reads events until the channel ends; returns the closing event.
    async fn finish(&mut self) -> ChannelEvent {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let event = tokio::time::timeout_at(deadline, self.channel.next())
                .await
                .expect("the channel did not close")
                .expect("channel ended without an event");
            self.take(event.clone());
            if matches!(event, ChannelEvent::Closed { .. } | ChannelEvent::Failed(_)) {
                return event;
            }
        }
    }
}

/// For hand-written agents: a session that cannot be resumed.
pub(crate) struct NoResume;

impl breakglass::datachannel::client::Resumer for NoResume {
    fn resume(
        &self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Option<String>, String>> + Send + '_>,
    > {
        Box::pin(async { Ok(None) })
    }
}

pub(crate) async fn sandbox() -> (Account, Simulator, breakglass::aws::Ssm) {
    let account = Account::new().await;
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    sim.trust_keys([account.key()]);
    sim.manage([
        ManagedInstance::new("i-0123456789abcdef0"),
        ManagedInstance {
            ping_status: "ConnectionLost".into(),
            ..ManagedInstance::new("i-0fffffffffffffff1")
        },
    ]);
    let ssm = account.context_at(&sim.endpoint()).await.ssm(REGION);
    (account, sim, ssm)
}

async fn open(
    account: &Account,
    ssm: &breakglass::aws::Ssm,
    size: Option<Size>,
) -> (Shell, String) {
    open_with(account, ssm, size, None).await
}

async fn open_with(
    account: &Account,
    ssm: &breakglass::aws::Ssm,
    size: Option<Size>,
    keys: Option<Box<dyn breakglass::datachannel::client::DataKeys>>,
) -> (Shell, String) {
    let access = ssm
        .start_session("i-0123456789abcdef0", None, &[])
        .await
        .unwrap();
    assert!(access.stream_url.starts_with("ws://127.0.0.1:"));
    assert!(
        !format!("{access:?}").contains(&access.token),
        "token redacted"
    );
    let session_id = access.session_id.clone();
    let channel = Channel::open(
        Endpoint {
            kind: SessionKind::Shell,
            session_id: access.session_id,
            target: "i-0123456789abcdef0".into(),
            stream_url: access.stream_url,
            token: access.token,
            size,
            keys,
            signing: Some(account.signing()),
        },
        SessionResumer {
            ssm: ssm.clone(),
            session_id: session_id.clone(),
        },
    )
    .await
    .unwrap();
    let shell = Shell {
        channel,
        output: String::new(),
        events: Vec::new(),
    };
    (shell, session_id)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_is_a_real_shell_that_closes_on_exit() {
    let (account, sim, ssm) = sandbox().await;
    let (mut shell, session_id) = open(
        &account,
        &ssm,
        Some(Size {
            cols: 101,
            rows: 33,
        }),
    )
    .await;
    shell.until("GAME DAY / SANDBOX").await;
    // No handshake: the sandbox agent, as the real one for an unencrypted shell, starts
    // with output; the client is ready on it and sends the size first.
    assert!(
        matches!(&shell.events[0], ChannelEvent::Ready { agent_version, .. } if agent_version.is_empty()),
        "{:?}",
        shell.events
    );
    shell.until("sandbox$ ").await;
    // The shell is real, in the sandbox directory, on a terminal of the announced size.
    shell
        .channel
        .input(b"echo sum=$((6*7)); cat README; stty size\r");
    shell.until("sum=42").await;
    shell.until("33 101").await;
    assert!(shell.output.contains("GAME DAY / SANDBOX: commands"));
    shell.channel.resize(Size { cols: 90, rows: 20 });
    shell.channel.input(b"stty size\r");
    shell.until("20 90").await;

    let listed = ssm
        .describe_active_sessions("i-0123456789abcdef0")
        .await
        .unwrap()
        .value;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, session_id);

    shell.channel.input(b"exit\r");
    let closed = shell.finish().await;
    assert!(matches!(closed, ChannelEvent::Closed { .. }), "{closed:?}");
    // The session is gone, and cannot be resumed.
    support::eventually(Duration::from_secs(10), "the session gone", || async {
        let active = ssm.describe_active_sessions("i-0123456789abcdef0").await;
        active.unwrap().value.is_empty().then_some(())
    })
    .await;
    assert!(ssm.resume_session(&session_id).await.unwrap().is_none());
    assert!(sim.counts()["ssm:StartSession"] == 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_duplicated_and_reordered_frames_still_give_the_output_once_in_order() {
    let (account, sim, ssm) = sandbox().await;
    let (mut shell, _) = open(&account, &ssm, None).await;
    shell.until("sandbox$ ").await;
    let fault =
        |operation: &str, kind: FaultKind, times: u32| Fault::on(operation, kind).times(times);
    sim.inject([
        fault("ssmmessages:output_stream_data", FaultKind::DropFrame, 2),
        fault("ssmmessages:input_stream_data", FaultKind::DropFrame, 1),
        fault("ssmmessages:acknowledge", FaultKind::DropFrame, 1),
    ]);
    shell
        .channel
        .input(b"for i in 1 2 3 4 5; do echo line-$i; done\r");
    shell.until("line-5\r\nsandbox$ ").await;
    assert_eq!(sim.faults(), vec![], "the loss rules were all used");
    // Rules apply in order: the first three output frames are reordered, the next three
    // duplicated (the output is about nine 1 KiB frames).
    sim.inject([
        fault("ssmmessages:output_stream_data", FaultKind::ReorderFrame, 3),
        fault(
            "ssmmessages:output_stream_data",
            FaultKind::DuplicateFrame,
            3,
        ),
    ]);
    shell
        .channel
        .input(b"seq 1 2000 | tr '\\n' ' '; echo END\r");
    shell.until("END\r\nsandbox$ ").await;
    let numbers = shell
        .output
        .rsplit("tr '\\n' ' '; echo END")
        .next()
        .unwrap();
    let expected: String = (1..=2000).map(|n| format!("{n} ")).collect();
    assert!(
        numbers.contains(&format!("{expected}END")),
        "output in order, once: {numbers:?}"
    );
    // Every rule was used up: frames really were lost, duplicated and reordered.
    assert_eq!(sim.faults(), vec![]);
    shell.channel.close();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cut_connection_resumes_the_same_shell() {
    let (account, sim, ssm) = sandbox().await;
    let (mut shell, _) = open(&account, &ssm, None).await;
    shell.until("sandbox$ ").await;
    shell.channel.input(b"export MARK=kept-across-resume\r");
    shell.until("sandbox$ ").await;
    sim.inject([Fault::on("ssmmessages:input_stream_data", FaultKind::Disconnect).times(1)]);
    // This input is cut with the connection; it is resent after the resume.
    shell.channel.input(b"echo $MARK\r");
    shell.until("kept-across-resume\r\n").await;
    assert!(
        shell
            .events
            .iter()
            .any(|e| matches!(e, ChannelEvent::Reconnecting { .. })),
        "{:?}",
        shell.events
    );
    assert!(shell.events.contains(&ChannelEvent::Reconnected));
    assert_eq!(sim.counts()["ssm:ResumeSession"], 1);
    shell.channel.close();
}

#[tokio::test(flavor = "multi_thread")]
async fn terminate_session_closes_the_channel_and_bad_targets_are_refused() {
    let (account, _sim, ssm) = sandbox().await;
    let (mut shell, session_id) = open(&account, &ssm, None).await;
    shell.until("sandbox$ ").await;
    ssm.terminate_session(&session_id).await.unwrap();
    let closed = shell.finish().await;
    assert!(matches!(closed, ChannelEvent::Closed { .. }), "{closed:?}");

    for target in ["i-0fffffffffffffff1", "i-0000000000000dead"] {
        let err = ssm.start_session(target, None, &[]).await.unwrap_err();
        assert_eq!(err.code.as_deref(), Some("TargetNotConnected"), "{err}");
    }
    let err = ssm
        .start_session("i-0123456789abcdef0", Some("AWS-StartSSHSession"), &[])
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("InvalidDocument"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn kms_encrypted_sessions_work_end_to_end_and_need_kms_access() {
    let (account, sim, ssm) = sandbox().await;
    let ctx = account.context_at(&sim.endpoint()).await;
    let kms = aws_sdk_kms::Client::new(ctx.sdk_config());
    let key = kms.create_key().send().await.unwrap();
    let key_id = key.key_metadata().unwrap().key_id().to_owned();
    sim.require_session_encryption(Some(key_id));

    // Without KMS access the client says why and the session does not start.
    let (mut refused, _) = open_with(&account, &ssm, None, None).await;
    let failed = refused.finish().await;
    assert!(
        matches!(&failed, ChannelEvent::Failed(m) if m.contains("require KMS encryption")),
        "{failed:?}"
    );
    // It answered the handshake (saying why) before it stopped: the agent read the answer.
    support::eventually(Duration::from_secs(10), "the refusal read", || async {
        let refused = sim
            .counts()
            .get("ssmmessages:HandshakeResponse(refused)")
            .copied();
        (refused == Some(1)).then_some(())
    })
    .await;

    // With it: the data key from KMS, the challenge, then an encrypted shell.
    let (mut shell, session_id) =
        open_with(&account, &ssm, None, Some(Box::new(ctx.kms(REGION)))).await;
    shell.until("sandbox$ ").await;
    // With KMS the agent asks for the handshake, and the client is ready on its completion.
    assert!(
        matches!(&shell.events[0], ChannelEvent::Ready { agent_version, .. } if !agent_version.is_empty()),
        "{:?}",
        shell.events
    );
    shell.channel.input(b"echo secret-$((40+2))\r");
    shell.until("secret-42").await;
    let counts = sim.counts();
    assert!(
        counts.get("kms:GenerateDataKey").copied().unwrap_or(0) >= 1,
        "{counts:?}"
    );
    assert!(
        counts.get("kms:Decrypt").copied().unwrap_or(0) >= 1,
        "{counts:?}"
    );
    ssm.terminate_session(&session_id).await.unwrap();
}

/// A test agent (a websocket server speaking the agent's side by hand) that pauses the
/// client's publication: input typed while paused arrives only after start_publication.
#[tokio::test(flavor = "multi_thread")]
async fn input_waits_while_the_agent_pauses_publication() {
    use breakglass::datachannel::payload::{Acknowledge, HandshakeComplete, HandshakeRequest};
    use breakglass::datachannel::{Frame, MessageType, PayloadType};
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "ws://{}/v1/data-channel/test",
        listener.local_addr().unwrap()
    );
    let agent = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let open = ws.next().await.unwrap().unwrap();
        assert!(open.to_text().unwrap().contains("\"TokenValue\":\"t0ken\""));
        let send = |seq: i64, payload_type: PayloadType, payload: Vec<u8>| {
            Message::Binary(
                Frame::new(MessageType::OutputStreamData, seq, 0, payload_type, payload)
                    .encode()
                    .into(),
            )
        };
        let control = |kind: MessageType| {
            Message::Binary(
                Frame::new(kind, 0, 0, PayloadType::None, Vec::new())
                    .encode()
                    .into(),
            )
        };
        let request = HandshakeRequest {
            agent_version: "3.3.0.0".into(),
            requested_client_actions: vec![
                breakglass::datachannel::payload::RequestedClientAction {
                    action_type: "SessionType".into(),
                    action_parameters: serde_json::json!({ "SessionType": "Standard_Stream" }),
                },
            ],
        };
        ws.send(send(
            0,
            PayloadType::HandshakeRequest,
            serde_json::to_vec(&request).unwrap(),
        ))
        .await
        .unwrap();
        let mut paused_at = None;
        let mut got_input = None;
        let mut resumed = false;
        while let Some(Ok(Message::Binary(bytes))) = ws.next().await {
            let frame = Frame::decode(&bytes).unwrap();
            if frame.message_type != MessageType::InputStreamData {
                continue;
            }
            ws.send(Message::Binary(
                Acknowledge::frame_for(&frame).encode().into(),
            ))
            .await
            .unwrap();
            match frame.payload_type {
                PayloadType::HandshakeResponse if paused_at.is_none() => {
                    let complete = HandshakeComplete {
                        handshake_time_to_complete: 0,
                        customer_message: String::new(),
                    };
                    ws.send(control(MessageType::PausePublication))
                        .await
                        .unwrap();
                    ws.send(send(
                        1,
                        PayloadType::HandshakeComplete,
                        serde_json::to_vec(&complete).unwrap(),
                    ))
                    .await
                    .unwrap();
                    paused_at = Some(std::time::Instant::now());
                    // Hold the pause for 800 ms: nothing typed may arrive meanwhile.
                    let until = tokio::time::Instant::now() + Duration::from_millis(800);
                    while let Ok(Some(Ok(Message::Binary(b)))) =
                        tokio::time::timeout_at(until, ws.next()).await
                    {
                        let f = Frame::decode(&b).unwrap();
                        assert_ne!(f.payload_type, PayloadType::Output, "input while paused");
                        if f.message_type == MessageType::InputStreamData {
                            let ack = Acknowledge::frame_for(&f).encode();
                            ws.send(Message::Binary(ack.into())).await.unwrap();
                        }
                    }
                    ws.send(control(MessageType::StartPublication))
                        .await
                        .unwrap();
                    resumed = true;
                }
                PayloadType::Output => {
                    got_input = Some((frame.payload, paused_at.unwrap().elapsed()));
                    break;
                }
                _ => {}
            }
        }
        assert!(resumed);
        got_input.unwrap()
    });
    let mut channel = Channel::open(
        Endpoint {
            kind: SessionKind::Shell,
            session_id: "test".into(),
            target: "i-test".into(),
            stream_url: url,
            token: "t0ken".into(),
            size: None,
            keys: None,
            signing: None,
        },
        NoResume,
    )
    .await
    .unwrap();
    // Ready, then type at once: the agent has paused publication.
    loop {
        if let Some(ChannelEvent::Ready { .. }) = channel.next().await {
            break;
        }
    }
    channel.input(b"typed-while-paused");
    let (payload, after) = tokio::time::timeout(Duration::from_secs(10), agent)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(payload, b"typed-while-paused");
    assert!(
        after >= Duration::from_millis(700),
        "held for the pause: {after:?}"
    );
}

/// The websocket upgrade is signed with SigV4 for `ssmmessages` over the `Host` header, as
/// current plugins sign it: a hand-written agent takes the upgrade request as it arrived on
/// the wire and recomputes its signature with the secret (aws-sigv4 directly, from the
/// received host, path and date), so a signature over the wrong host, path or service fails.
#[tokio::test(flavor = "multi_thread")]
async fn the_upgrade_request_is_signed_with_sigv4_for_ssmmessages() {
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use breakglass::datachannel::connect::Signing;
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

    const SECRET: &str = "sandbox-secret-key";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("ws://{addr}/v1/data-channel/s-9?role=publish_subscribe");
    let agent = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut seen = None;
        let callback = |request: &Request, response: Response| {
            let header = |name: &str| {
                request
                    .headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_owned())
            };
            seen = Some((
                request.uri().to_string(),
                header("host"),
                header("authorization"),
                header("x-amz-date"),
                header("x-amz-security-token"),
            ));
            Ok(response)
        };
        let mut ws = tokio_tungstenite::accept_hdr_async(tcp, callback)
            .await
            .unwrap();
        let open = ws.next().await.unwrap().unwrap();
        assert!(open.to_text().unwrap().contains("\"TokenValue\":\"t0ken\""));
        seen.unwrap()
    });
    let credentials = Credentials::new("AKIDSANDBOX", SECRET, Some("sess".into()), None, "test");
    let _channel = Channel::open(
        Endpoint {
            kind: SessionKind::Shell,
            session_id: "s-9".into(),
            target: "i-test".into(),
            stream_url: url,
            token: "t0ken".into(),
            size: None,
            keys: None,
            signing: Some(Signing {
                credentials: SharedCredentialsProvider::new(credentials.clone()),
                region: "eu-north-1".into(),
            }),
        },
        NoResume,
    )
    .await
    .unwrap();
    let (path, host, authorization, date, token) = agent.await.unwrap();
    let (host, authorization, date) = (host.unwrap(), authorization.unwrap(), date.unwrap());
    assert_eq!(token.as_deref(), Some("sess"));
    let day = &date[..8];
    assert!(
        authorization.starts_with(&format!(
            "AWS4-HMAC-SHA256 Credential=AKIDSANDBOX/{day}/eu-north-1/ssmmessages/aws4_request, \
             SignedHeaders=host;x-amz-date;x-amz-security-token, Signature="
        )),
        "{authorization}"
    );
    // Recompute from what arrived.
    let time = chrono::NaiveDateTime::parse_from_str(&date, "%Y%m%dT%H%M%SZ")
        .unwrap()
        .and_utc();
    let identity = credentials.into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("eu-north-1")
        .name("ssmmessages")
        .time(time.into())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "GET",
        format!("https://{host}{path}"),
        std::iter::once(("host", host.as_str())),
        SignableBody::Bytes(&[]),
    )
    .unwrap();
    let (expected, _) = sign(signable, &params).unwrap().into_parts();
    let expected = expected
        .headers()
        .find(|(name, _)| *name == "authorization")
        .unwrap()
        .1
        .to_owned();
    assert_eq!(authorization, expected);
}

/// The sandbox refuses an upgrade it cannot verify, as a gateway that requires signed
/// upgrades would: unsigned, or signed with a secret that is not the key's. Nothing is
/// attached to the session (its websocket never opens).
#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_refuses_an_unsigned_or_wrongly_signed_upgrade() {
    use aws_credential_types::provider::SharedCredentialsProvider;
    use breakglass::datachannel::connect::Signing;

    let (account, _sim, ssm) = sandbox().await;
    let forged = Signing {
        credentials: SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
            &account.access_key_id,
            "not-the-secret",
            Some(account.session_token.clone()),
            None,
            "test",
        )),
        region: REGION.into(),
    };
    for signing in [None, Some(forged)] {
        let access = ssm
            .start_session("i-0123456789abcdef0", None, &[])
            .await
            .unwrap();
        let opened = Channel::open(
            Endpoint {
                kind: SessionKind::Shell,
                session_id: access.session_id.clone(),
                target: "i-0123456789abcdef0".into(),
                stream_url: access.stream_url,
                token: access.token,
                size: None,
                keys: None,
                signing,
            },
            NoResume,
        )
        .await;
        let err = opened.err().expect("refused");
        assert!(err.contains("403"), "{err}");
        // What to do about it, in the message itself.
        assert!(err.contains("check this machine's clock"), "{err}");
        assert!(err.contains("ssmmessages:OpenDataChannel"), "{err}");
        ssm.terminate_session(&access.session_id).await.unwrap();
    }
    // The signed one opens.
    let (mut shell, session_id) = open(&account, &ssm, None).await;
    shell.until("sandbox$ ").await;
    ssm.terminate_session(&session_id).await.unwrap();
}
