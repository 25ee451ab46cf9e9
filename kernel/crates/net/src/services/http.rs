//! One HTTP connection slot: read a request head, answer, close, listen again.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};

use crate::http::{self, Parse, Route, Status};
use crate::stack::ServiceCounters;

/// Bound on a request head; a longer one is answered 431.
pub const MAX_HEAD_BYTES: usize = 4096;
const RECEIVE_BUFFER_BYTES: usize = MAX_HEAD_BYTES;
const SEND_BUFFER_BYTES: usize = 16 * 1024;

/// Requests answered, by status (indexed like [`Status::ALL`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HttpCounters {
    pub responses: [u64; Status::ALL.len()],
}

impl HttpCounters {
    pub fn count(&self, status: Status) -> u64 {
        self.responses[status.index()]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Listening,
    Reading,
    Writing,
    Closing,
}

pub struct HttpSlot {
    handle: SocketHandle,
    port: u16,
    phase: Phase,
    opened_at: Instant,
    request: Vec<u8>,
    response: Vec<u8>,
    sent_bytes: usize,
}

impl HttpSlot {
    pub fn new(sockets: &mut SocketSet<'static>, port: u16) -> Self {
        let mut socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; RECEIVE_BUFFER_BYTES]),
            tcp::SocketBuffer::new(vec![0; SEND_BUFFER_BYTES]),
        );
        // A peer that stops acknowledging (gone, or a stalled handshake) is
        // dropped by smoltcp after this long.
        socket.set_timeout(Some(Duration::from_secs(10)));
        // A fresh socket always accepts listen() on a non-zero port.
        let _ = socket.listen(port);
        HttpSlot {
            handle: sockets.add(socket),
            port,
            phase: Phase::Listening,
            opened_at: Instant::ZERO,
            request: Vec::new(),
            response: Vec::new(),
            sent_bytes: 0,
        }
    }

    pub fn handle(&self) -> SocketHandle {
        self.handle
    }

    /// When this slot needs a poll for its timeout, if a connection is open.
    pub fn deadline(&self, request_timeout_ms: u64) -> Option<Instant> {
        match self.phase {
            Phase::Listening => None,
            Phase::Reading => Some(self.opened_at + Duration::from_millis(request_timeout_ms)),
            // A peer that stops reading or never closes is cut off after
            // twice the request timeout.
            Phase::Writing | Phase::Closing => Some(self.opened_at + Duration::from_millis(2 * request_timeout_ms)),
        }
    }

    /// Advances the connection; true if anything changed.
    pub fn run(
        &mut self,
        sockets: &mut SocketSet<'static>,
        now: Instant,
        request_timeout_ms: u64,
        counters: &mut ServiceCounters,
        render_metrics: &mut dyn FnMut(&mut String),
    ) -> bool {
        let socket = sockets.get_mut::<tcp::Socket>(self.handle);
        let state = socket.state();
        let mut changed = false;
        if self.phase == Phase::Listening {
            // A connection counts once the handshake is done; until then
            // smoltcp owns it (and its timeout ends a handshake that stalls).
            if matches!(state, tcp::State::Listen | tcp::State::Closed | tcp::State::SynReceived) {
                if state == tcp::State::Closed {
                    let _ = socket.listen(self.port);
                }
                return false;
            }
            counters.tcp_accepted += 1;
            self.phase = Phase::Reading;
            self.opened_at = now;
            self.request.clear();
            changed = true;
        }
        if matches!(state, tcp::State::Closed | tcp::State::TimeWait) {
            // Done (or reset by the peer): the slot listens again at once.
            // TIME-WAIT is cut short: the answer was delivered and closed, and
            // keeping the slot 10 s would starve the bound under scrapes.
            self.reset(socket);
            return true;
        }
        if self.phase == Phase::Reading {
            changed |= self.read(socket, now, request_timeout_ms, counters, render_metrics);
        }
        if self.phase == Phase::Writing {
            if self.sent_bytes < self.response.len() {
                if let Ok(sent) = socket.send_slice(&self.response[self.sent_bytes..]) {
                    changed |= sent > 0;
                    self.sent_bytes += sent;
                }
            }
            if self.sent_bytes >= self.response.len() {
                socket.close();
                self.phase = Phase::Closing;
                changed = true;
            }
        }
        if self.phase != Phase::Reading && now >= self.opened_at + Duration::from_millis(2 * request_timeout_ms) {
            self.reset(socket);
            changed = true;
        }
        changed
    }

    fn read(
        &mut self,
        socket: &mut tcp::Socket<'_>,
        now: Instant,
        request_timeout_ms: u64,
        counters: &mut ServiceCounters,
        render_metrics: &mut dyn FnMut(&mut String),
    ) -> bool {
        let mut changed = false;
        while socket.can_recv() && self.request.len() < MAX_HEAD_BYTES {
            let room = MAX_HEAD_BYTES - self.request.len();
            let request = &mut self.request;
            let taken = socket.recv(|data| {
                let taken = data.len().min(room);
                request.extend_from_slice(&data[..taken]);
                (taken, taken)
            });
            match taken {
                Ok(0) | Err(_) => break,
                Ok(_) => changed = true,
            }
        }
        let status = match http::parse_request(&self.request, MAX_HEAD_BYTES) {
            Parse::Complete { method, target, .. } => match http::route(method, target) {
                Route::Metrics => {
                    let mut body = String::new();
                    render_metrics(&mut body);
                    self.respond(Status::Ok, http::METRICS_CONTENT_TYPE, body.as_bytes(), counters);
                    return true;
                }
                Route::Health => Status::Ok,
                Route::Reject(status) => status,
            },
            Parse::Reject(status) => status,
            Parse::Incomplete if !socket.may_recv() && self.request.is_empty() => {
                // Opened and closed without a byte (a port probe): nothing to answer.
                socket.close();
                self.phase = Phase::Closing;
                return true;
            }
            Parse::Incomplete if !socket.may_recv() => Status::BadRequest,
            Parse::Incomplete if now >= self.opened_at + Duration::from_millis(request_timeout_ms) => {
                Status::RequestTimeout
            }
            Parse::Incomplete => return changed,
        };
        let body: &[u8] = match status {
            Status::Ok => b"ok\n",
            _ => status.reason().as_bytes(),
        };
        self.respond(status, http::TEXT_CONTENT_TYPE, body, counters);
        true
    }

    fn respond(&mut self, status: Status, content_type: &str, body: &[u8], counters: &mut ServiceCounters) {
        let mut head = String::new();
        // Writing into a String cannot fail.
        let _ = http::write_response_head(&mut head, status, content_type, body.len());
        self.response.clear();
        self.response.extend_from_slice(head.as_bytes());
        self.response.extend_from_slice(body);
        self.sent_bytes = 0;
        self.phase = Phase::Writing;
        counters.http.responses[status.index()] += 1;
    }

    fn reset(&mut self, socket: &mut tcp::Socket<'_>) {
        socket.abort();
        let _ = socket.listen(self.port);
        self.phase = Phase::Listening;
        // Give back what a large answer took, so the heap returns to where
        // it was after a burst of scrapes.
        self.request = Vec::new();
        self.response = Vec::new();
        self.sent_bytes = 0;
    }
}
