//! libxmlsec1 reports every failed signature check through its error callback, whose default
//! prints a line to stderr (`func=xmlSecOpenSSLEvpDigestVerify:...`), and libxml2 prints its
//! parser errors there too: anyone who posts a forged SAML response would write into the
//! service's log stream, unstructured. [`route_to_tracing`] replaces both printers with
//! handlers that emit `tracing` debug events (target `xmlsec`) instead; the caller already
//! turns the failure into its own error.
//!
//! The C side: `xmlSecErrorsDefaultCallbackEnableOutput(0)` silences the default printer
//! (which the OpenSSL back end puts back as the callback when it initialises, lazily, on the
//! first verification), `xmlSecErrorsSetCallback` installs ours (a process-wide pointer), and
//! `xmlSetStructuredErrorFunc` does the same for libxml2 (per thread). Both libraries are
//! linked by `samael` already.

use std::ffi::{CStr, c_char, c_int, c_void};

/// libxml2's `xmlError`, as far as these handlers read it (its first fields, in order).
#[repr(C)]
struct XmlErrorPrefix {
    domain: c_int,
    code: c_int,
    message: *const c_char,
}

type XmlSecErrorsCallback =
    extern "C" fn(file: *const c_char, line: c_int, func: *const c_char, object: *const c_char, subject: *const c_char, reason: c_int, msg: *const c_char);
type XmlStructuredErrorFunc = extern "C" fn(user_data: *mut c_void, error: *const XmlErrorPrefix);

#[link(name = "xmlsec1")]
unsafe extern "C" {
    fn xmlSecErrorsSetCallback(callback: Option<XmlSecErrorsCallback>);
    fn xmlSecErrorsDefaultCallbackEnableOutput(enabled: c_int);
}

#[link(name = "xml2")]
unsafe extern "C" {
    fn xmlSetStructuredErrorFunc(ctx: *mut c_void, handler: Option<XmlStructuredErrorFunc>);
}

/// A C string the libraries passed, or "" (they pass NULL for absent parts).
fn text(ptr: *const c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: the libraries pass NUL-terminated strings that live for the duration of the call.
    unsafe { CStr::from_ptr(ptr) }.to_string_lossy().trim_end().to_owned()
}

extern "C" fn xmlsec_error(_file: *const c_char, _line: c_int, func: *const c_char, object: *const c_char, subject: *const c_char, reason: c_int, msg: *const c_char) {
    tracing::debug!(target: "xmlsec", func = %text(func), object = %text(object), subject = %text(subject), reason, detail = %text(msg), "xmlsec reported an error");
}

extern "C" fn libxml_error(_user_data: *mut c_void, error: *const XmlErrorPrefix) {
    if error.is_null() {
        return;
    }
    // SAFETY: libxml2 passes a valid xmlError for the duration of the call; only the leading
    // fields, laid out as in its header, are read.
    let (domain, code, message) = unsafe { ((*error).domain, (*error).code, text((*error).message)) };
    tracing::debug!(target: "xmlsec", domain, code, detail = %message, "libxml2 reported an error");
}

/// Routes the error reports of libxmlsec1 and of libxml2 (on the calling thread) to
/// `tracing`. Cheap (two pointer stores and a flag); call it on every thread before it
/// verifies, and again after, since the first verification initialises xmlsec's OpenSSL back
/// end, which reinstalls its default callback (silenced here).
pub fn route_to_tracing() {
    // SAFETY: these functions only store a flag or the handler pointer (an aligned word: a
    // concurrent reader sees the old or the new handler, both valid for the whole process);
    // the handlers are `extern "C"` functions with the exact signatures the headers declare,
    // and never unwind.
    unsafe {
        xmlSecErrorsDefaultCallbackEnableOutput(0);
        xmlSecErrorsSetCallback(Some(xmlsec_error));
        xmlSetStructuredErrorFunc(std::ptr::null_mut(), Some(libxml_error));
    }
}
