//! The device code's verification URL as a QR code in the terminal.

/// `text` as a QR code of half-block characters (two rows per line), for a phone to scan.
pub fn qr_code(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .quiet_zone(true)
            .build(),
    )
}
