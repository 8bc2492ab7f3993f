//! The data-channel frame codec against golden frames written independently by
//! `tests/fixtures/frames/make.py` (Python `struct`, from the layout table): each frame is
//! checked field by field at its offsets, decoded, and re-encoded to the same bytes.

use breakglass::datachannel::{Frame, FrameError, MessageType, PayloadType};
use sha2::{Digest, Sha256};

const ID: &str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const CREATED: u64 = 1_795_000_000_123;

fn golden(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/frames/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    hex::decode(std::fs::read_to_string(path).unwrap().trim()).unwrap()
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn be_u64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().unwrap())
}

#[test]
fn every_frame_type_matches_its_golden_bytes_field_by_field() {
    let cases = [
        (
            "input_output",
            MessageType::InputStreamData,
            7,
            0,
            PayloadType::Output,
        ),
        (
            "input_size",
            MessageType::InputStreamData,
            1,
            0,
            PayloadType::Size,
        ),
        (
            "input_handshake_response",
            MessageType::InputStreamData,
            0,
            0,
            PayloadType::HandshakeResponse,
        ),
        (
            "output_output",
            MessageType::OutputStreamData,
            42,
            0,
            PayloadType::Output,
        ),
        (
            "output_handshake_request",
            MessageType::OutputStreamData,
            0,
            0,
            PayloadType::HandshakeRequest,
        ),
        (
            "output_handshake_complete",
            MessageType::OutputStreamData,
            1,
            0,
            PayloadType::HandshakeComplete,
        ),
        (
            "output_exit_code",
            MessageType::OutputStreamData,
            9,
            0,
            PayloadType::ExitCode,
        ),
        (
            "acknowledge",
            MessageType::Acknowledge,
            0,
            3,
            PayloadType::None,
        ),
        (
            "channel_closed",
            MessageType::ChannelClosed,
            0,
            0,
            PayloadType::Output,
        ),
        (
            "start_publication",
            MessageType::StartPublication,
            0,
            0,
            PayloadType::None,
        ),
        (
            "pause_publication",
            MessageType::PausePublication,
            0,
            0,
            PayloadType::None,
        ),
        (
            "flag_terminate",
            MessageType::InputStreamData,
            3,
            0,
            PayloadType::Flag,
        ),
    ];
    for (name, message_type, seq, flags, payload_type) in cases {
        let bytes = golden(name);
        // The layout, offset by offset.
        assert_eq!(be_u32(&bytes, 0), 116, "{name}: header length");
        let type_field = std::str::from_utf8(&bytes[4..36]).unwrap();
        assert_eq!(type_field.trim_end(), message_type.as_str(), "{name}: type");
        assert_eq!(type_field.len(), 32, "{name}: type is space-padded to 32");
        assert_eq!(be_u32(&bytes, 36), 1, "{name}: schema version");
        assert_eq!(be_u64(&bytes, 40), CREATED, "{name}: created");
        assert_eq!(be_u64(&bytes, 48) as i64, seq, "{name}: sequence number");
        assert_eq!(be_u64(&bytes, 56), flags, "{name}: flags");
        let id = uuid::Uuid::parse_str(ID).unwrap();
        assert_eq!(
            &bytes[64..72],
            &id.as_bytes()[8..],
            "{name}: id low half first"
        );
        assert_eq!(
            &bytes[72..80],
            &id.as_bytes()[..8],
            "{name}: then the high half"
        );
        let payload = &bytes[120..];
        assert_eq!(
            &bytes[80..112],
            Sha256::digest(payload).as_slice(),
            "{name}: digest"
        );
        assert_eq!(
            be_u32(&bytes, 112),
            payload_type.code(),
            "{name}: payload type"
        );
        assert_eq!(
            be_u32(&bytes, 116) as usize,
            payload.len(),
            "{name}: payload length"
        );

        // The codec reads the same fields and writes the same bytes.
        let frame = Frame::decode(&bytes).unwrap();
        assert_eq!(frame.message_type, message_type, "{name}");
        assert_eq!(frame.sequence_number, seq, "{name}");
        assert_eq!(frame.flags, flags, "{name}");
        assert_eq!(frame.created_ms, CREATED, "{name}");
        assert_eq!(frame.message_id.to_string(), ID, "{name}");
        assert_eq!(frame.payload_type, payload_type, "{name}");
        assert_eq!(frame.payload, payload, "{name}");
        assert_eq!(frame.encode(), bytes, "{name}: re-encoded");
    }
}

#[test]
fn damaged_frames_are_rejected_with_the_reason() {
    let good = golden("output_output");
    assert_eq!(Frame::decode(&good[..100]), Err(FrameError::Short(100)));
    let mut bad = good.clone();
    bad[3] = 117;
    assert_eq!(Frame::decode(&bad), Err(FrameError::HeaderLength(117)));
    let mut bad = good.clone();
    bad[4..36].copy_from_slice(&[b'x'; 32]);
    assert!(matches!(
        Frame::decode(&bad),
        Err(FrameError::MessageType(_))
    ));
    let mut bad = good.clone();
    bad.push(b'!');
    assert!(matches!(
        Frame::decode(&bad),
        Err(FrameError::PayloadLength { .. })
    ));
    let mut bad = good.clone();
    *bad.last_mut().unwrap() ^= 1;
    assert_eq!(Frame::decode(&bad), Err(FrameError::Digest));
    // NUL padding (as some agents write) reads the same as spaces.
    let mut nul = golden("start_publication");
    for b in &mut nul[4..36] {
        if *b == b' ' {
            *b = 0;
        }
    }
    assert_eq!(
        Frame::decode(&nul).unwrap().message_type,
        MessageType::StartPublication
    );
}
