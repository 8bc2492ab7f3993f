//! Which IAM Identity Center sign-in flow to use: the browser with PKCE where a browser can
//! open, the device code when asked for or when none can (a headless jump host).

use crate::signin::{Method, browser_available};

/// The flow for a sign-in; `device_code` is the responder's explicit choice.
pub fn sign_in_method(device_code: bool) -> Method {
    if device_code || !browser_available() {
        Method::DeviceCode
    } else {
        Method::AuthorizationCode
    }
}
