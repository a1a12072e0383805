package sshtransport

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Sentinel errors for host key verification, matched with errors.Is on the
// *HostKeyError Dial returns.
var (
	// ErrHostKeyUnknown means no known_hosts file has a key for the host.
	// Verify the key (HostKeyError.Key) out of band and add it, or connect
	// with AcceptNew.
	ErrHostKeyUnknown = errors.New("sshtransport: host key is unknown")
	// ErrHostKeyChanged means the host's key differs from the one in
	// known_hosts: a man-in-the-middle attack, or a replaced key. It is never
	// accepted automatically; remove the old entry only once you know why.
	ErrHostKeyChanged = errors.New("sshtransport: host key has changed")
	// ErrHostKeyRevoked means the host's key is marked @revoked in a
	// known_hosts file.
	ErrHostKeyRevoked = errors.New("sshtransport: host key is revoked")
)

// HostKeyError reports a host key that known_hosts does not vouch for. Its
// Error text says what to do; errors.Is matches it to ErrHostKeyUnknown,
// ErrHostKeyChanged or ErrHostKeyRevoked.
type HostKeyError struct {
	Host  string                // the name in known_hosts form: host, or [host]:port
	Key   ssh.PublicKey         // the key the server presented
	Known []knownhosts.KnownKey // the recorded keys it differs from (changed), or the @revoked entry
	Files []string              // the known_hosts files consulted
	kind  error                 // one of the sentinels
}

// Is reports whether target is the sentinel for e's kind.
func (e *HostKeyError) Is(target error) bool { return target == e.kind }

// Error says what is wrong with the key and what to do about it.
func (e *HostKeyError) Error() string {
	fp := Fingerprint(e.Key)
	switch e.kind {
	case ErrHostKeyRevoked:
		k := e.Known[0]
		return fmt.Sprintf("sshtransport: host key for %s (%s) is marked @revoked in %s:%d; refusing to connect (ask the host's administrator for its current key)",
			e.Host, fp, k.Filename, k.Line)
	case ErrHostKeyChanged:
		var known []string
		for _, k := range e.Known {
			known = append(known, fmt.Sprintf("%s:%d holds %s", k.Filename, k.Line, Fingerprint(k.Key)))
		}
		what := "the host key was replaced"
		if !slices.ContainsFunc(e.Known, func(k knownhosts.KnownKey) bool { return k.Key.Type() == e.Key.Type() }) {
			what = "the host no longer offers the recorded key type"
		}
		return fmt.Sprintf("sshtransport: WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for %s! "+
			"It presented %s, but %s. Someone could be eavesdropping on you right now "+
			"(man-in-the-middle attack), or %s. Refusing to connect, even with accept-new. "+
			"If you know why the key changed, remove the old entry with: ssh-keygen -f %q -R %q",
			e.Host, fp, strings.Join(known, "; "), what, e.Known[0].Filename, e.Host)
	default:
		var where, add string
		if len(e.Files) == 0 {
			where = "no known_hosts file (none is configured)"
			add = "set UserKnownHostsFile"
		} else {
			where = strings.Join(e.Files, ", ")
			host, port, _ := net.SplitHostPort(e.Host)
			if host == "" {
				host, port = e.Host, "22"
			}
			scan := "ssh-keyscan"
			if port != "22" {
				scan += " -p " + port
			}
			add = fmt.Sprintf("add it with \"%s %s >> %s\"", scan, strings.Trim(host, "[]"), e.Files[0])
		}
		return fmt.Sprintf("sshtransport: host key for %s is not in %s (%s); verify it and %s, or accept it on first use with --accept-new (StrictHostKeyChecking=accept-new)",
			e.Host, where, fp, add)
	}
}

// Fingerprint returns a key's type and SHA-256 fingerprint as OpenSSH shows
// them, e.g. "ED25519 SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
// for status displays and logs.
func Fingerprint(key ssh.PublicKey) string {
	if key == nil {
		return "(no key)"
	}
	return keyTypeName(key.Type()) + " " + ssh.FingerprintSHA256(key)
}

// keyTypeName returns OpenSSH's short name for a key type.
func keyTypeName(t string) string {
	cert := ""
	if s, ok := strings.CutSuffix(t, "-cert-v01@openssh.com"); ok {
		t, cert = s, "-CERT"
	}
	switch {
	case t == ssh.KeyAlgoED25519:
		t = "ED25519"
	case t == ssh.KeyAlgoSKED25519:
		t = "ED25519-SK"
	case t == ssh.KeyAlgoSKECDSA256:
		t = "ECDSA-SK"
	case strings.HasPrefix(t, "ecdsa-sha2-"):
		t = "ECDSA"
	case t == ssh.KeyAlgoRSA:
		t = "RSA"
	case t == "ssh-dss":
		t = "DSA"
	}
	return t + cert
}

// plainHostKeyAlgorithms is the host key algorithm preference for a host
// with no recorded key. Certificates are not offered: a host that presents
// one would be checked against @cert-authority lines only, and accept-new
// could not record it.
var plainHostKeyAlgorithms = []string{
	ssh.KeyAlgoED25519,
	ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521,
	ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256,
}

// probeKey is a throwaway key, looked up in known_hosts to learn which key
// types are recorded for a host (the lookup fails and lists them).
var probeKey = sync.OnceValue(func() ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic("sshtransport: generate probe key: " + err.Error())
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		panic("sshtransport: probe key: " + err.Error())
	}
	return k
})

// hostKeyChecker verifies one connection's host key against known_hosts,
// and records new keys when accept-new is in effect.
type hostKeyChecker struct {
	name      string   // host:port, or HostKeyAlias:port
	files     []string // the configured files; files[0] gets new keys
	existing  []string // those that exist, which were read
	acceptNew bool
	hash      bool
	db        ssh.HostKeyCallback
	logger    *slog.Logger

	mu  sync.Mutex
	key ssh.PublicKey // the key that passed, for Client.HostKey
}

func newHostKeyChecker(e *endpoint, logger *slog.Logger) (*hostKeyChecker, error) {
	h := &hostKeyChecker{
		name:      e.knownHostsName(),
		files:     e.knownHostsFiles,
		acceptNew: e.acceptNew,
		hash:      e.hashKnownHosts,
		logger:    logger,
	}
	for _, f := range h.files {
		if _, err := os.Stat(f); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("sshtransport: known hosts file: %w", err)
		}
		h.existing = append(h.existing, f)
	}
	db, err := knownhosts.New(h.existing...)
	if err != nil {
		return nil, fmt.Errorf("sshtransport: read known hosts: %v (fix or delete that line; ssh-keygen -R removes a host's entries)", err)
	}
	h.db = db
	return h, nil
}

// algorithms returns the host key algorithms to offer: those of the keys
// recorded for the host first, so that a server with several host keys
// presents the one we know, as ssh does.
func (h *hostKeyChecker) algorithms() []string {
	var algos []string
	var ke *knownhosts.KeyError
	if err := h.db(h.name, probeAddr, probeKey()); errors.As(err, &ke) {
		for _, k := range ke.Want {
			if k.Key.Type() == ssh.KeyAlgoRSA {
				algos = append(algos, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256)
			} else {
				algos = append(algos, k.Key.Type())
			}
		}
	}
	algos = append(algos, plainHostKeyAlgorithms...)
	// Keep the first of each.
	seen := make(map[string]bool)
	return slices.DeleteFunc(algos, func(a string) bool {
		dup := seen[a]
		seen[a] = true
		return dup
	})
}

var probeAddr = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 22}

// check is the ssh.HostKeyCallback. It looks the key up under h.name (not
// the address passed in, which may be the alias's) and refuses unknown,
// changed and revoked keys, except that accept-new records an unknown one.
func (h *hostKeyChecker) check(_ string, remote net.Addr, key ssh.PublicKey) error {
	err := h.db(h.name, remote, key)
	if err == nil {
		h.setKey(key)
		return nil
	}
	name := knownhosts.Normalize(h.name)
	var (
		ke *knownhosts.KeyError
		re *knownhosts.RevokedError
	)
	switch {
	case errors.As(err, &re):
		return &HostKeyError{Host: name, Key: key, Known: []knownhosts.KnownKey{re.Revoked}, Files: h.existing, kind: ErrHostKeyRevoked}
	case errors.As(err, &ke) && len(ke.Want) > 0:
		return &HostKeyError{Host: name, Key: key, Known: ke.Want, Files: h.existing, kind: ErrHostKeyChanged}
	case errors.As(err, &ke):
		if !h.acceptNew {
			return &HostKeyError{Host: name, Key: key, Files: h.files, kind: ErrHostKeyUnknown}
		}
		h.add(name, key)
		h.setKey(key)
		return nil
	default:
		return fmt.Errorf("sshtransport: check host key for %s (%s): %w", name, Fingerprint(key), err)
	}
}

func (h *hostKeyChecker) setKey(k ssh.PublicKey) {
	h.mu.Lock()
	h.key = k
	h.mu.Unlock()
}

func (h *hostKeyChecker) hostKey() ssh.PublicKey {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.key
}

// add appends key for name to the first known_hosts file, hashing the name
// if HashKnownHosts says so. Like ssh, it only warns when it cannot: the
// connection goes ahead, and the next one will find the key unknown again.
func (h *hostKeyChecker) add(name string, key ssh.PublicKey) {
	if len(h.files) == 0 {
		h.logger.Warn("accepted new host key, but no known_hosts file is configured to record it",
			"host", name, "key", Fingerprint(key))
		return
	}
	file := h.files[0]
	host := name
	if h.hash {
		host = knownhosts.HashHostname(name)
	}
	line := host + " " + key.Type() + " " + base64.StdEncoding.EncodeToString(key.Marshal()) + "\n"
	if err := appendLine(file, line); err != nil {
		h.logger.Warn("accepted new host key but could not record it; fix the file's permissions or set UserKnownHostsFile",
			"host", name, "key", Fingerprint(key), "file", file, "err", err)
		return
	}
	// ssh: "Warning: Permanently added '[host]:port' (ED25519) to the list of known hosts."
	h.logger.Warn("permanently added host key to the list of known hosts",
		"host", name, "key", Fingerprint(key), "file", file, "hashed", h.hash)
}

// appendLine appends line to file, creating the file (0600) and its
// directory (0700) if needed, and starting a new line if the file does not
// end in one.
func appendLine(file, line string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return err
	} else if st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err != nil && err != io.EOF {
			return err
		}
		if last[0] != '\n' {
			line = "\n" + line
		}
	}
	if _, err := f.WriteString(line); err != nil {
		return err
	}
	return f.Close()
}
