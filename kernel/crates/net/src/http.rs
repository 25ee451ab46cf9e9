//! HTTP/1.1 request heads (RFC 9112, sections 2-5) as the kernel's tiny
//! server needs them: one request per connection, GET only, no body.
//!
//! The parser is incremental in the simplest way: the server keeps the bytes
//! received so far and calls [`parse_request`] again after each read, until
//! it answers `Complete` or `Reject`. It never allocates and never panics,
//! whatever the bytes (the fuzz-style tests below feed it garbage).

use core::fmt::{self, Write};

/// The status codes the server answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    BadRequest,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    HeaderFieldsTooLarge,
    ServiceUnavailable,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Ok,
        Status::BadRequest,
        Status::NotFound,
        Status::MethodNotAllowed,
        Status::RequestTimeout,
        Status::HeaderFieldsTooLarge,
        Status::ServiceUnavailable,
    ];

    pub const fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::BadRequest => 400,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::RequestTimeout => 408,
            Status::HeaderFieldsTooLarge => 431,
            Status::ServiceUnavailable => 503,
        }
    }

    /// The code as text, for metric labels.
    pub const fn code_text(self) -> &'static str {
        match self {
            Status::Ok => "200",
            Status::BadRequest => "400",
            Status::NotFound => "404",
            Status::MethodNotAllowed => "405",
            Status::RequestTimeout => "408",
            Status::HeaderFieldsTooLarge => "431",
            Status::ServiceUnavailable => "503",
        }
    }

    pub const fn reason(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::BadRequest => "Bad Request",
            Status::NotFound => "Not Found",
            Status::MethodNotAllowed => "Method Not Allowed",
            Status::RequestTimeout => "Request Timeout",
            Status::HeaderFieldsTooLarge => "Request Header Fields Too Large",
            Status::ServiceUnavailable => "Service Unavailable",
        }
    }

    /// Position in [`Status::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// What the bytes received so far amount to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parse<'a> {
    /// The head is not finished yet; read more (the caller enforces its own
    /// size bound by calling with at most `max_head_bytes` bytes).
    Incomplete,
    /// A well-formed head of `head_bytes` bytes.
    Complete { method: &'a str, target: &'a str, head_bytes: usize },
    /// Answer with this status and close.
    Reject(Status),
}

/// Longest request line accepted; longer ones are a 400 (RFC 9112 3: a
/// server may reject long request lines; 414 is for URIs we never serve).
const MAX_REQUEST_LINE_BYTES: usize = 1024;

/// Parses a request head in `received`. `max_head_bytes` is the bound on
/// the whole head: a head that is not finished within it is a 431.
pub fn parse_request(received: &[u8], max_head_bytes: usize) -> Parse<'_> {
    let window = &received[..received.len().min(max_head_bytes)];
    let Some(head_bytes) = find_head_end(window) else {
        // No end yet: still check what is already complete, so garbage is
        // rejected at once rather than after the timeout.
        if let Some(line_end) = find_byte(window, b'\n') {
            if let Err(status) = parse_request_line(trim_cr(&window[..line_end])) {
                return Parse::Reject(status);
            }
        } else if window.len() > MAX_REQUEST_LINE_BYTES || !window.iter().all(|&byte| is_request_line_byte(byte)) {
            return Parse::Reject(Status::BadRequest);
        }
        if received.len() >= max_head_bytes {
            return Parse::Reject(Status::HeaderFieldsTooLarge);
        }
        return Parse::Incomplete;
    };
    let head = &window[..head_bytes];
    let mut lines = head.split(|&byte| byte == b'\n').map(trim_cr);
    let request_line = lines.next().unwrap_or(&[]);
    let (method, target) = match parse_request_line(request_line) {
        Ok(parts) => parts,
        Err(status) => return Parse::Reject(status),
    };
    for line in lines.filter(|line| !line.is_empty()) {
        if !is_header_line(line) {
            return Parse::Reject(Status::BadRequest);
        }
    }
    Parse::Complete { method, target, head_bytes }
}

/// Index just past the empty line that ends the head (`\r\n\r\n`, or bare
/// `\n\n`, which RFC 9112 2.2 lets a server accept).
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    let mut line_start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b'\n' {
            let line = trim_cr(&bytes[line_start..index]);
            if line.is_empty() && line_start > 0 {
                return Some(index + 1);
            }
            line_start = index + 1;
        }
    }
    None
}

fn find_byte(bytes: &[u8], wanted: u8) -> Option<usize> {
    bytes.iter().position(|&byte| byte == wanted)
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Visible ASCII, space and CR: the bytes a request line may hold.
fn is_request_line_byte(byte: u8) -> bool {
    (0x20..0x7f).contains(&byte) || byte == b'\r'
}

/// RFC 9110 5.6.2 `tchar`.
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// `method SP request-target SP HTTP-version` (RFC 9112 3).
fn parse_request_line(line: &[u8]) -> Result<(&str, &str), Status> {
    if line.len() > MAX_REQUEST_LINE_BYTES || !line.iter().all(|&byte| is_request_line_byte(byte) && byte != b'\r') {
        return Err(Status::BadRequest);
    }
    // All bytes are ASCII (checked above), so this cannot fail.
    let text = core::str::from_utf8(line).map_err(|_| Status::BadRequest)?;
    let mut parts = text.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Status::BadRequest);
    };
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return Err(Status::BadRequest);
    }
    if !target.starts_with('/') {
        return Err(Status::BadRequest);
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(Status::BadRequest);
    }
    Ok((method, target))
}

/// `field-name ":" OWS field-value OWS` with a token name and visible value
/// bytes (RFC 9112 5; obsolete line folding is rejected, as 5.2 allows).
fn is_header_line(line: &[u8]) -> bool {
    let Some(colon) = find_byte(line, b':') else { return false };
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    !name.is_empty()
        && name.iter().all(|&byte| is_token_byte(byte))
        && value.iter().all(|&byte| byte == b'\t' || (0x20..0x7f).contains(&byte) || byte >= 0x80)
}

/// What the server does for a well-formed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Metrics,
    Health,
    Reject(Status),
}

/// Routes a request: GET /metrics and GET /healthz (a query string is
/// ignored, as Prometheus may add one); any other method is 405.
pub fn route(method: &str, target: &str) -> Route {
    if method != "GET" {
        return Route::Reject(Status::MethodNotAllowed);
    }
    let path = target.split('?').next().unwrap_or(target);
    match path {
        "/metrics" => Route::Metrics,
        "/healthz" => Route::Health,
        _ => Route::Reject(Status::NotFound),
    }
}

/// The Prometheus text format's content type (exposition format 0.0.4).
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
pub const TEXT_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// Writes a response head; every response closes the connection.
pub fn write_response_head(out: &mut dyn Write, status: Status, content_type: &str, body_bytes: usize) -> fmt::Result {
    write!(
        out,
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        status.code(),
        status.reason(),
        content_type,
        body_bytes
    )?;
    if status == Status::MethodNotAllowed {
        out.write_str("Allow: GET\r\n")?;
    }
    out.write_str("\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 4096;

    #[test]
    fn a_prometheus_scrape_parses_and_routes_to_metrics() {
        let request = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9100\r\nUser-Agent: Prometheus/2.45\r\nAccept: text/plain;version=0.0.4;q=1\r\n\r\n";
        let Parse::Complete { method, target, head_bytes } = parse_request(request, LIMIT) else {
            panic!("not complete");
        };
        assert_eq!((method, target, head_bytes), ("GET", "/metrics", request.len()));
        assert_eq!(route(method, target), Route::Metrics);
        assert_eq!(route("GET", "/healthz"), Route::Health);
        assert_eq!(route("GET", "/metrics?x=1"), Route::Metrics);
    }

    #[test]
    fn every_prefix_of_a_good_request_is_incomplete() {
        let request = b"GET /healthz HTTP/1.0\r\nA: b\r\n\r\n";
        for end in 0..request.len() {
            assert_eq!(parse_request(&request[..end], LIMIT), Parse::Incomplete, "prefix of {end} bytes");
        }
        assert!(matches!(parse_request(request, LIMIT), Parse::Complete { .. }));
        assert!(matches!(parse_request(b"GET / HTTP/1.1\n\n", LIMIT), Parse::Complete { .. }));
    }

    #[test]
    fn malformed_requests_are_400_and_other_methods_405_and_paths_404() {
        for bad in [
            &b"\x00\x01\x02garbage"[..],
            b"GET\r\n\r\n",
            b"GET /metrics\r\n\r\n",
            b"GET metrics HTTP/1.1\r\n\r\n",
            b"GET /metrics HTTP/2.0\r\n\r\n",
            b"GET /metrics HTTP/1.1 extra\r\n\r\n",
            b"G(T /metrics HTTP/1.1\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\n : empty name\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nA: \x01\r\n\r\n",
        ] {
            assert_eq!(parse_request(bad, LIMIT), Parse::Reject(Status::BadRequest), "{bad:?}");
        }
        assert_eq!(route("POST", "/metrics"), Route::Reject(Status::MethodNotAllowed));
        assert_eq!(route("GET", "/nope"), Route::Reject(Status::NotFound));
    }

    #[test]
    fn a_head_that_does_not_end_within_the_bound_is_431() {
        let mut request = std::vec::Vec::from(&b"GET /metrics HTTP/1.1\r\n"[..]);
        while request.len() < LIMIT {
            request.extend_from_slice(b"X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        assert_eq!(parse_request(&request, LIMIT), Parse::Reject(Status::HeaderFieldsTooLarge));
        assert_eq!(parse_request(&request[..LIMIT - 1], LIMIT), Parse::Incomplete);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A fixed-seed xorshift: deterministic, no test dependency needed.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"GET /metricsHTTP1.0\r\n: \x00\xff";
        for _ in 0..20_000 {
            let length = (next() % 64) as usize;
            let bytes: std::vec::Vec<u8> =
                (0..length).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
            let _ = parse_request(&bytes, 32);
        }
    }

    #[test]
    fn the_response_head_carries_length_type_and_close() {
        let mut head = std::string::String::new();
        write_response_head(&mut head, Status::Ok, METRICS_CONTENT_TYPE, 12).unwrap();
        assert_eq!(
            head,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 12\r\nConnection: close\r\n\r\n"
        );
        let mut head = std::string::String::new();
        write_response_head(&mut head, Status::MethodNotAllowed, TEXT_CONTENT_TYPE, 0).unwrap();
        assert!(head.contains("\r\nAllow: GET\r\n"));
    }
}
