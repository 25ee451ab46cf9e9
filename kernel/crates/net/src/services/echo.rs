//! One echo connection slot (RFC 862 over TCP): every byte received is sent back.

use alloc::vec;

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp;

use crate::stack::ServiceCounters;

/// Large buffers let a bulk transfer keep a full window in flight (and
/// window scaling on); 2 MiB for the four slots.
const BUFFER_BYTES: usize = 256 * 1024;
/// Bytes moved per copy step (kept on the stack).
const CHUNK_BYTES: usize = 2048;

pub struct EchoSlot {
    handle: SocketHandle,
    port: u16,
    is_connected: bool,
}

impl EchoSlot {
    pub fn new(sockets: &mut SocketSet<'static>, port: u16) -> Self {
        let mut socket =
            tcp::Socket::new(tcp::SocketBuffer::new(vec![0; BUFFER_BYTES]), tcp::SocketBuffer::new(vec![0; BUFFER_BYTES]));
        // Drop a peer that stops acknowledging for this long (long enough to
        // ride out heavy injected loss).
        socket.set_timeout(Some(smoltcp::time::Duration::from_secs(60)));
        // Acknowledge every segment at once: the peer's loss recovery (fast
        // retransmit, SACK, RACK) runs on our ACKs, and under loss a delayed
        // one is more often the last one for a while.
        socket.set_ack_delay(None);
        // A fresh socket always accepts listen() on a non-zero port.
        let _ = socket.listen(port);
        EchoSlot { handle: sockets.add(socket), port, is_connected: false }
    }

    pub fn handle(&self) -> SocketHandle {
        self.handle
    }

    /// Copies what arrived back out; true if anything moved or changed.
    pub fn run(&mut self, sockets: &mut SocketSet<'static>, counters: &mut ServiceCounters) -> bool {
        let socket = sockets.get_mut::<tcp::Socket>(self.handle);
        match socket.state() {
            tcp::State::Listen | tcp::State::SynReceived => return false,
            tcp::State::Closed | tcp::State::TimeWait => {
                socket.abort();
                let _ = socket.listen(self.port);
                self.is_connected = false;
                return true;
            }
            _ => {}
        }
        let mut changed = false;
        if !self.is_connected {
            self.is_connected = true;
            counters.tcp_accepted += 1;
            changed = true;
        }
        let mut chunk = [0u8; CHUNK_BYTES];
        while socket.can_recv() && socket.can_send() {
            let room = (socket.send_capacity() - socket.send_queue()).min(CHUNK_BYTES);
            let Ok(taken) = socket.recv_slice(&mut chunk[..room]) else { break };
            if taken == 0 {
                break;
            }
            // Room was checked above, so the whole chunk fits.
            let _ = socket.send_slice(&chunk[..taken]);
            changed = true;
        }
        // The peer finished sending and everything was echoed: close our side.
        if !socket.may_recv() && socket.may_send() && socket.send_queue() == 0 && !socket.can_recv() {
            socket.close();
            changed = true;
        }
        changed
    }
}
