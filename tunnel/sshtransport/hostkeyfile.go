package sshtransport

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
)

// LoadOrCreateHostKey returns the server host key in the OpenSSH private
// key file path. If the file does not exist, it generates an Ed25519 key,
// writes it there with mode 0600 (and its public half to path.pub, as
// ssh-keygen does) and reports created; print its Fingerprint so clients
// can verify it. The file must not be readable by group or others, and
// must not be encrypted.
func LoadOrCreateHostKey(path string) (signer ssh.Signer, created bool, err error) {
	s, err := loadHostKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return s, false, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("sshtransport: generate host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "pppssh host key")
	if err != nil {
		return nil, false, fmt.Errorf("sshtransport: encode host key: %w", err)
	}
	s, err = ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, false, fmt.Errorf("sshtransport: host key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, false, fmt.Errorf("sshtransport: create host key directory: %w", err)
	}
	// Write a temporary file and link it into place, so that the key
	// appears complete or not at all, and a key another process created
	// meanwhile wins.
	tmp, err := os.CreateTemp(dir, ".hostkey-*")
	if err != nil {
		return nil, false, fmt.Errorf("sshtransport: write host key %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.Write(pem.EncodeToMemory(block))
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, false, fmt.Errorf("sshtransport: write host key %s: %w", path, err)
		}
	} else {
		tmp.Close()
		return nil, false, fmt.Errorf("sshtransport: write host key %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			s, err := loadHostKey(path)
			return s, false, err
		}
		return nil, false, fmt.Errorf("sshtransport: write host key %s: %w", path, err)
	}
	pub := ssh.MarshalAuthorizedKey(s.PublicKey())
	pub = append(pub[:len(pub)-1], " pppssh host key\n"...)
	if err := os.WriteFile(path+".pub", pub, 0o644); err != nil {
		return nil, false, fmt.Errorf("sshtransport: write host public key: %w", err)
	}
	return s, true, nil
}

func loadHostKey(path string) (ssh.Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sshtransport: host key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("sshtransport: host key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("sshtransport: host key %s is accessible by group or others (mode %04o); protect it with: chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("sshtransport: read host key %s: %w", path, err)
	}
	s, err := ssh.ParsePrivateKey(data)
	if err != nil {
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, fmt.Errorf("sshtransport: host key %s is encrypted; a server host key must not be (remove the passphrase with ssh-keygen -p -f %s)", path, path)
		}
		return nil, fmt.Errorf("sshtransport: host key %s: %v (want an OpenSSH private key, e.g. from ssh-keygen -t ed25519)", path, err)
	}
	return s, nil
}
