// Package sshtransport carries pppssh's byte streams over SSH, on both ends.
//
// On the client side, [Dial] connects to an SSH server the way OpenSSH's ssh
// does: it resolves a [user@]host[:port] target through ~/.ssh/config,
// authenticates with the keys in ssh-agent and then the identity files,
// verifies the server's host key against known_hosts and keeps the
// connection alive with keepalive@openssh.com requests. [Client.Exec] runs
// the remote end (by default "pppssh serve") and returns its stdin and stdout
// as a [Stream], an io.ReadWriteCloser, with the remote's stderr and exit
// status kept for error messages.
//
// On the server side, [Server] is a small SSH server for hosts that should
// not hand out shell accounts. It authenticates clients against an
// OpenSSH-format authorized_keys file whose per-key options (see
// [ParseAuthorizedKeys]) become each key's tunnel settings, and hands every
// session to a handler as a [Session], again an io.ReadWriteCloser.
//
// The package produces streams only; it does not import the tunnel engine.
// The engine (package tunnel) runs PPP over whatever io.ReadWriteCloser it is
// given.
//
// # Throughput
//
// Both sides prefer aes128-gcm@openssh.com when the CPU has AES instructions
// (AES-NI and PCLMULQDQ on amd64, the AES extension on arm64 and s390x), and
// chacha20-poly1305@openssh.com otherwise; see [Ciphers]. Both are AEAD
// ciphers, so no separate MAC is computed.
//
// # References
//
//   - RFC 4251, The Secure Shell (SSH) Protocol Architecture.
//   - RFC 4252, The Secure Shell (SSH) Authentication Protocol.
//   - RFC 4253, The Secure Shell (SSH) Transport Layer Protocol.
//   - RFC 4254, The Secure Shell (SSH) Connection Protocol: sessions
//     (section 6), exec (6.5), pty-req and terminal modes (6.2, 8),
//     exit-status (6.10).
//   - OpenSSH PROTOCOL, section 2.2: the keepalive@openssh.com request.
//   - ssh(1), ssh_config(5): ServerAliveInterval, ServerAliveCountMax,
//     StrictHostKeyChecking=accept-new, HashKnownHosts.
//   - sshd(8), sections AUTHORIZED_KEYS FILE FORMAT and SSH_KNOWN_HOSTS FILE
//     FORMAT.
package sshtransport
