package sshtransport

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/term"
)

// ErrNoTerminal is wrapped by the error Dial returns when an encrypted key
// needs a passphrase, ClientConfig.Passphrase is nil and there is no
// terminal to ask on. Load the key into ssh-agent (ssh-add), or use an
// unencrypted key.
var ErrNoTerminal = errors.New("no terminal to ask for the passphrase")

// passphraseAttempts is how many times a wrong passphrase is asked again,
// as ssh's NumberOfPasswordPrompts.
const passphraseAttempts = 3

// ttyPath is the terminal a passphrase is read from; tests change it.
var ttyPath = "/dev/tty"

// keySource is one key offered to the server, for logs and error messages.
type keySource struct {
	from string // "agent" or the file name
	key  ssh.PublicKey
	note string // the agent's comment
}

func (k keySource) String() string {
	s := k.from + ": " + Fingerprint(k.key)
	if k.note != "" {
		s += " " + k.note
	}
	return s
}

// authenticator holds the keys one Dial offers: the agent's first, then the
// identity files', without duplicates.
type authenticator struct {
	signers []ssh.Signer
	sources []keySource
	skipped []string // why a configured source gave nothing, for the error message
	agent   net.Conn // closed after the handshake
}

func newAuthenticator(e *endpoint, prompt func(string) ([]byte, error), logger *slog.Logger) (*authenticator, error) {
	a := &authenticator{}
	seen := make(map[string]bool)
	add := func(s ssh.Signer, src keySource) {
		k := string(s.PublicKey().Marshal())
		if seen[k] {
			return
		}
		seen[k] = true
		a.signers = append(a.signers, s)
		a.sources = append(a.sources, src)
	}

	if e.agentSocket == "" {
		a.skipped = append(a.skipped, e.agentOff)
	} else if conn, err := net.Dial("unix", e.agentSocket); err != nil {
		logger.Debug("ssh-agent not reachable", "socket", e.agentSocket, "err", err)
		a.skipped = append(a.skipped, fmt.Sprintf("ssh-agent at %s not reachable", e.agentSocket))
	} else {
		a.agent = conn
		ag := agent.NewClient(conn)
		keys, err := ag.List()
		if err == nil {
			var signers []ssh.Signer
			signers, err = ag.Signers()
			if err == nil && len(signers) != len(keys) {
				err = errors.New("key list changed while reading it")
			}
			for i, s := range signers {
				add(s, keySource{from: "agent", key: s.PublicKey(), note: keys[i].Comment})
			}
		}
		if err != nil {
			logger.Warn("cannot list ssh-agent keys", "socket", e.agentSocket, "err", err)
			a.skipped = append(a.skipped, fmt.Sprintf("ssh-agent at %s: %v", e.agentSocket, err))
		} else if len(keys) == 0 {
			a.skipped = append(a.skipped, "ssh-agent has no keys")
		}
	}

	if prompt == nil {
		prompt = terminalPassphrase
	}
	for i, file := range e.identityFiles {
		s, err := loadIdentity(file, prompt)
		if err != nil {
			if e.identityExplicit[i] {
				a.close()
				return nil, err
			}
			if errors.Is(err, fs.ErrNotExist) {
				a.skipped = append(a.skipped, file+" does not exist")
				continue
			}
			logger.Warn("skipping identity file", "file", file, "err", err)
			a.skipped = append(a.skipped, err.Error())
			continue
		}
		add(s, keySource{from: file, key: s.PublicKey()})
	}
	return a, nil
}

func (a *authenticator) close() {
	if a.agent != nil {
		a.agent.Close()
		a.agent = nil
	}
}

// describe lists what was offered, for an authentication failure.
func (a *authenticator) describe() string {
	var parts []string
	for _, s := range a.sources {
		parts = append(parts, s.String())
	}
	if len(parts) == 0 {
		parts = append(parts, "no keys at all")
	}
	s := "offered " + strings.Join(parts, "; ")
	if len(a.skipped) > 0 {
		s += " (" + strings.Join(a.skipped, "; ") + ")"
	}
	return s
}

// loadIdentity reads a private key file. An encrypted key whose public half
// is known (new OpenSSH format, or a .pub file beside it) is returned as a
// signer that asks for the passphrase only when it is first used, that is
// once the server has said it would accept the key; any other encrypted key
// is decrypted now.
func loadIdentity(file string, prompt func(string) ([]byte, error)) (ssh.Signer, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("sshtransport: identity file: %w", err)
	}
	s, err := ssh.ParsePrivateKey(data)
	if err == nil {
		return s, nil
	}
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		return nil, fmt.Errorf("sshtransport: identity file %s: %v (is it an OpenSSH private key?)", file, err)
	}
	pub := missing.PublicKey
	if pub == nil {
		if b, err := os.ReadFile(file + ".pub"); err == nil {
			pub, _, _, _, _ = ssh.ParseAuthorizedKey(b)
		}
	}
	ls := &lazySigner{file: file, data: data, pub: pub, prompt: prompt}
	if pub == nil {
		if _, err := ls.load(); err != nil {
			return nil, err
		}
	}
	return ls, nil
}

// lazySigner is an encrypted private key that is decrypted on first use.
// It is an ssh.AlgorithmSigner, so RSA keys can sign with rsa-sha2-*.
type lazySigner struct {
	file   string
	data   []byte
	pub    ssh.PublicKey
	prompt func(string) ([]byte, error)

	mu     sync.Mutex
	signer ssh.AlgorithmSigner
	err    error
}

// PublicKey returns the key's public half, known without the passphrase.
func (s *lazySigner) PublicKey() ssh.PublicKey { return s.pub }

// Sign decrypts the key if need be and signs with its default algorithm.
func (s *lazySigner) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	sg, err := s.load()
	if err != nil {
		return nil, err
	}
	return sg.Sign(rand, data)
}

// SignWithAlgorithm decrypts the key if need be and signs with algorithm.
func (s *lazySigner) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	sg, err := s.load()
	if err != nil {
		return nil, err
	}
	return sg.SignWithAlgorithm(rand, data, algorithm)
}

// load asks for the passphrase (up to passphraseAttempts times) and
// decrypts the key, once.
func (s *lazySigner) load() (ssh.AlgorithmSigner, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.signer != nil || s.err != nil {
		return s.signer, s.err
	}
	for attempt := 1; ; attempt++ {
		pass, err := s.prompt(s.file)
		if err != nil {
			s.err = fmt.Errorf("sshtransport: key %s is encrypted and its passphrase could not be read: %w; add the key to ssh-agent with ssh-add, or use an unencrypted key", s.file, err)
			return nil, s.err
		}
		raw, err := ssh.ParseRawPrivateKeyWithPassphrase(s.data, pass)
		clear(pass)
		if errors.Is(err, x509.IncorrectPasswordError) {
			if attempt < passphraseAttempts {
				continue
			}
			s.err = fmt.Errorf("sshtransport: wrong passphrase for key %s (%d attempts)", s.file, attempt)
			return nil, s.err
		}
		if err != nil {
			s.err = fmt.Errorf("sshtransport: decrypt key %s: %v", s.file, err)
			return nil, s.err
		}
		sg, err := ssh.NewSignerFromKey(raw)
		if err != nil {
			s.err = fmt.Errorf("sshtransport: key %s: %v", s.file, err)
			return nil, s.err
		}
		as, ok := sg.(ssh.AlgorithmSigner)
		if !ok {
			s.err = fmt.Errorf("sshtransport: key %s: unsupported key type %s", s.file, sg.PublicKey().Type())
			return nil, s.err
		}
		if s.pub != nil && string(s.pub.Marshal()) != string(as.PublicKey().Marshal()) {
			s.err = fmt.Errorf("sshtransport: key %s does not match its public key %s.pub", s.file, s.file)
			return nil, s.err
		}
		s.pub = as.PublicKey()
		s.signer = as
		clear(s.data)
		return as, nil
	}
}

// terminalPassphrase asks for a key's passphrase on the controlling
// terminal, without echo.
func terminalPassphrase(file string) ([]byte, error) {
	tty, err := os.OpenFile(ttyPath, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNoTerminal, err)
	}
	defer tty.Close()
	if !term.IsTerminal(int(tty.Fd())) {
		return nil, fmt.Errorf("%w (%s is not a terminal)", ErrNoTerminal, ttyPath)
	}
	fmt.Fprintf(tty, "Enter passphrase for key '%s': ", file)
	p, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, fmt.Errorf("read passphrase from %s: %v", ttyPath, err)
	}
	return p, nil
}
