package sshtransport

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kevinburke/ssh_config"
)

// Defaults used when neither ClientConfig nor ssh_config sets a value.
const (
	// DefaultKeepaliveInterval is how long the connection may be silent
	// before Dial's client sends a keepalive@openssh.com request. OpenSSH
	// sends none by default; a tunnel wants to notice a dead path.
	DefaultKeepaliveInterval = 15 * time.Second
	// DefaultKeepaliveCountMax is ServerAliveCountMax's default: how many
	// keepalives may go unanswered before the connection is declared dead.
	DefaultKeepaliveCountMax = 3
	// DefaultConnectTimeout bounds the TCP connect and the SSH handshake,
	// authentication included.
	DefaultConnectTimeout = 30 * time.Second
	// DefaultSystemConfigFile is the system-wide ssh_config.
	DefaultSystemConfigFile = "/etc/ssh/ssh_config"
)

// ClientConfig configures Dial. The zero value behaves like a plain ssh
// command: ~/.ssh/config and /etc/ssh/ssh_config, ssh-agent, the default
// identity files and known_hosts files, strict host key checking.
//
// Fields set here take precedence over ssh_config, which takes precedence
// over the defaults, as ssh's command-line options do.
type ClientConfig struct {
	// Home is the directory "~" stands for, in ssh_config values and in the
	// default paths (~/.ssh/config, ~/.ssh/known_hosts, ~/.ssh/id_*). Empty
	// means the user's home directory. Tests point it at a temporary
	// directory.
	Home string

	// ConfigFile is the user's ssh_config (ssh -F). Empty means
	// ~/.ssh/config if it exists; "none" reads no user configuration.
	ConfigFile string

	// SystemConfigFile is the system-wide ssh_config, read after ConfigFile.
	// Empty means DefaultSystemConfigFile if it exists; "none" reads none.
	SystemConfigFile string

	// IdentityFiles are private key files to try, in order, after the keys
	// in ssh-agent (ssh -i). ssh_config's IdentityFile entries follow them.
	// When neither names any, the existing files among ~/.ssh/id_ed25519,
	// ~/.ssh/id_ecdsa and ~/.ssh/id_rsa are tried. A file named here must
	// exist.
	IdentityFiles []string

	// AgentSocket is the path of ssh-agent's socket. Empty means
	// ssh_config's IdentityAgent, else $SSH_AUTH_SOCK; "none" uses no agent.
	AgentSocket string

	// Passphrase returns the passphrase of the encrypted private key in
	// file. It is called only when the server is willing to accept that key,
	// at most three times per key if the passphrase is wrong. Nil means ask
	// on the controlling terminal (/dev/tty), or fail with an error naming
	// the key when there is none. The returned slice is zeroed after use.
	Passphrase func(file string) ([]byte, error)

	// KnownHostsFiles are the known_hosts files to check the server's host
	// key against; they replace ssh_config's UserKnownHostsFile and
	// GlobalKnownHostsFile. Files that do not exist are skipped. New keys
	// (see AcceptNew) are added to the first. Empty means UserKnownHostsFile
	// (default ~/.ssh/known_hosts ~/.ssh/known_hosts2) followed by
	// GlobalKnownHostsFile (default /etc/ssh/ssh_known_hosts
	// /etc/ssh/ssh_known_hosts2).
	KnownHostsFiles []string

	// AcceptNew makes an unknown host key acceptable, as
	// StrictHostKeyChecking=accept-new does: the key is added to the first
	// known_hosts file and the connection proceeds. A key that differs from
	// a known one is refused regardless. False leaves the choice to
	// ssh_config's StrictHostKeyChecking ("accept-new", "no" and "off"
	// accept new keys, like this field; "yes", "ask" and the default refuse
	// them, as pppssh never asks).
	//
	// Whether the added entry is hashed follows ssh_config's HashKnownHosts.
	// When no file sets it the entry is hashed, as on Debian, whose
	// /etc/ssh/ssh_config sets "HashKnownHosts yes" (OpenSSH's own default
	// is no).
	AcceptNew bool

	// KeepaliveInterval is how long the connection may be silent before a
	// keepalive@openssh.com request is sent (ServerAliveInterval). Zero
	// means ssh_config's ServerAliveInterval if set (where 0 turns
	// keepalives off), else DefaultKeepaliveInterval; negative turns
	// keepalives off.
	KeepaliveInterval time.Duration

	// KeepaliveCountMax is how many keepalives in a row may go unanswered
	// before the connection is declared dead (ServerAliveCountMax). Zero
	// means ssh_config's ServerAliveCountMax, else DefaultKeepaliveCountMax.
	KeepaliveCountMax int

	// ConnectTimeout bounds the TCP connect and the SSH handshake. Zero
	// means ssh_config's ConnectTimeout, else DefaultConnectTimeout.
	ConnectTimeout time.Duration

	// Logger receives connection events: the host key added to known_hosts,
	// the keys tried, keepalive failures. Nil means silent. Secrets are
	// never logged.
	Logger *slog.Logger
}

// endpoint is everything Dial needs to know about one connection, resolved
// from the target, ClientConfig, ssh_config and the defaults.
type endpoint struct {
	alias    string // the host as the user typed it (ssh_config's Host match)
	hostName string // what to connect to (HostName)
	port     int
	user     string

	identityFiles     []string // expanded paths
	identityExplicit  []bool   // parallel: named by ClientConfig (must exist)
	agentSocket       string   // "" means no agent
	agentOff          string   // why there is none, for messages
	knownHostsFiles   []string // in order; new keys go to the first
	acceptNew         bool
	hashKnownHosts    bool
	hostKeyAlias      string // known_hosts name instead of host:port, or ""
	keepaliveInterval time.Duration
	keepaliveCountMax int
	connectTimeout    time.Duration
	configFiles       []string // what was read, for messages
}

// addr returns host:port to dial.
func (e *endpoint) addr() string {
	return joinHostPort(e.hostName, e.port)
}

// knownHostsName returns the name the host's keys are recorded under, as
// host:port (HostKeyAlias if set).
func (e *endpoint) knownHostsName() string {
	if e.hostKeyAlias != "" {
		return joinHostPort(e.hostKeyAlias, e.port)
	}
	return e.addr()
}

func joinHostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// sshConfig is the user's and the system's ssh_config, looked up in that
// order as ssh does: the first value found wins.
type sshConfig struct {
	files []*ssh_config.Config
	names []string
}

func loadSSHConfig(home, userFile, systemFile string) (*sshConfig, error) {
	var c sshConfig
	load := func(path string, explicit bool) error {
		if path == "none" {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			if !explicit && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("sshtransport: read ssh config: %w", err)
		}
		defer f.Close()
		cfg, err := ssh_config.Decode(f)
		if err != nil {
			return fmt.Errorf("sshtransport: parse ssh config %s: %v (fix the file, or pass another one)", path, err)
		}
		c.files = append(c.files, cfg)
		c.names = append(c.names, path)
		return nil
	}
	if userFile == "" {
		if err := load(filepath.Join(home, ".ssh", "config"), false); err != nil {
			return nil, err
		}
	} else if err := load(expandTilde(userFile, home), true); err != nil {
		return nil, err
	}
	if systemFile == "" {
		if err := load(DefaultSystemConfigFile, false); err != nil {
			return nil, err
		}
	} else if err := load(expandTilde(systemFile, home), true); err != nil {
		return nil, err
	}
	return &c, nil
}

// get returns the first value of key for alias, and whether one was found.
func (c *sshConfig) get(alias, key string) (string, bool, error) {
	for i, f := range c.files {
		v, err := f.Get(alias, key)
		if err != nil {
			return "", false, fmt.Errorf("sshtransport: ssh config %s: %s for %s: %v", c.names[i], key, alias, err)
		}
		if v != "" {
			return v, true, nil
		}
	}
	return "", false, nil
}

// getAll returns every value of key for alias, user file first.
func (c *sshConfig) getAll(alias, key string) ([]string, error) {
	var all []string
	for i, f := range c.files {
		v, err := f.GetAll(alias, key)
		if err != nil {
			return nil, fmt.Errorf("sshtransport: ssh config %s: %s for %s: %v", c.names[i], key, alias, err)
		}
		all = append(all, v...)
	}
	return all, nil
}

// resolve works out the endpoint for t the way ssh does: the target's own
// user and port, then ClientConfig, then ssh_config (matched on the host as
// typed), then the defaults.
func resolve(t Target, cfg *ClientConfig) (*endpoint, error) {
	home := cfg.Home
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("sshtransport: find the home directory for ~/.ssh: %v (set $HOME)", err)
		}
		home = h
	}
	sc, err := loadSSHConfig(home, cfg.ConfigFile, cfg.SystemConfigFile)
	if err != nil {
		return nil, err
	}
	e := &endpoint{alias: t.Host, configFiles: sc.names}
	where := func() string {
		if len(sc.names) == 0 {
			return "ssh config"
		}
		return strings.Join(sc.names, " or ")
	}

	for _, key := range []string{"ProxyJump", "ProxyCommand"} {
		v, ok, err := sc.get(t.Host, key)
		if err != nil {
			return nil, err
		}
		if ok && !strings.EqualFold(v, "none") {
			return nil, fmt.Errorf("sshtransport: %s sets %s for %s, which pppssh does not support; connect to the host directly (or give its address instead of the alias)", where(), key, t.Host)
		}
	}

	// User and port first: the tokens in later values refer to them.
	e.user = t.User
	if e.user == "" {
		v, _, err := sc.get(t.Host, "User")
		if err != nil {
			return nil, err
		}
		e.user = v
	}
	if e.user == "" {
		e.user = localUser()
	}
	e.port = t.Port
	if e.port == 0 {
		v, ok, err := sc.get(t.Host, "Port")
		if err != nil {
			return nil, err
		}
		if ok {
			if e.port, err = parsePort(v); err != nil {
				return nil, fmt.Errorf("sshtransport: %s: Port for %s: %w", where(), t.Host, err)
			}
		} else {
			e.port = 22
		}
	}
	tok := tokens{home: home, alias: t.Host, host: t.Host, port: e.port, user: e.user}
	e.hostName = t.Host
	if v, ok, err := sc.get(t.Host, "HostName"); err != nil {
		return nil, err
	} else if ok {
		if e.hostName, err = tok.expand(v, "HostName"); err != nil {
			return nil, err
		}
		e.hostName = strings.Trim(e.hostName, "[]")
	}
	tok.host = e.hostName
	if v, ok, err := sc.get(t.Host, "HostKeyAlias"); err != nil {
		return nil, err
	} else if ok {
		e.hostKeyAlias = v
	}

	// Identities: ClientConfig's, then ssh_config's, else the defaults.
	for _, f := range cfg.IdentityFiles {
		p, err := tok.expand(f, "identity file")
		if err != nil {
			return nil, err
		}
		e.identityFiles = append(e.identityFiles, p)
		e.identityExplicit = append(e.identityExplicit, true)
	}
	ids, err := sc.getAll(t.Host, "IdentityFile")
	if err != nil {
		return nil, err
	}
	for _, f := range ids {
		p, err := tok.expand(f, "IdentityFile")
		if err != nil {
			return nil, err
		}
		e.identityFiles = append(e.identityFiles, p)
		e.identityExplicit = append(e.identityExplicit, false)
	}
	if len(e.identityFiles) == 0 {
		for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			e.identityFiles = append(e.identityFiles, filepath.Join(home, ".ssh", name))
			e.identityExplicit = append(e.identityExplicit, false)
		}
	}

	switch {
	case cfg.AgentSocket == "none":
		e.agentOff = "no ssh-agent (disabled)"
	case cfg.AgentSocket != "":
		e.agentSocket = expandTilde(cfg.AgentSocket, home)
	default:
		v, ok, err := sc.get(t.Host, "IdentityAgent")
		if err != nil {
			return nil, err
		}
		switch {
		case !ok || v == "SSH_AUTH_SOCK":
			e.agentSocket = os.Getenv("SSH_AUTH_SOCK")
			e.agentOff = "no ssh-agent (SSH_AUTH_SOCK is not set)"
		case strings.EqualFold(v, "none"):
			e.agentOff = "no ssh-agent (IdentityAgent none)"
		case strings.HasPrefix(v, "$"):
			e.agentSocket = os.Getenv(strings.TrimPrefix(v, "$"))
			e.agentOff = "no ssh-agent (" + v + " is not set)"
		default:
			if e.agentSocket, err = tok.expand(v, "IdentityAgent"); err != nil {
				return nil, err
			}
		}
	}

	// Host keys.
	if len(cfg.KnownHostsFiles) > 0 {
		for _, f := range cfg.KnownHostsFiles {
			p, err := tok.expand(f, "known hosts file")
			if err != nil {
				return nil, err
			}
			e.knownHostsFiles = append(e.knownHostsFiles, p)
		}
	} else {
		for _, kv := range [][2]string{
			{"UserKnownHostsFile", "~/.ssh/known_hosts ~/.ssh/known_hosts2"},
			{"GlobalKnownHostsFile", "/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2"},
		} {
			v, ok, err := sc.get(t.Host, kv[0])
			if err != nil {
				return nil, err
			}
			if !ok {
				v = kv[1]
			}
			if strings.EqualFold(v, "none") {
				continue
			}
			for _, f := range strings.Fields(v) {
				p, err := tok.expand(f, kv[0])
				if err != nil {
					return nil, err
				}
				e.knownHostsFiles = append(e.knownHostsFiles, p)
			}
		}
	}
	e.acceptNew = cfg.AcceptNew
	if !e.acceptNew {
		v, _, err := sc.get(t.Host, "StrictHostKeyChecking")
		if err != nil {
			return nil, err
		}
		switch strings.ToLower(v) {
		case "", "yes", "ask":
		case "accept-new", "no", "off":
			e.acceptNew = true
		default:
			return nil, fmt.Errorf("sshtransport: %s: StrictHostKeyChecking %q for %s: want yes, ask, accept-new, no or off", where(), v, t.Host)
		}
	}
	e.hashKnownHosts = true
	if v, ok, err := sc.get(t.Host, "HashKnownHosts"); err != nil {
		return nil, err
	} else if ok {
		if e.hashKnownHosts, err = parseYesNo(v); err != nil {
			return nil, fmt.Errorf("sshtransport: %s: HashKnownHosts for %s: %v", where(), t.Host, err)
		}
	}

	// Keepalives and timeouts.
	e.keepaliveInterval = cfg.KeepaliveInterval
	if e.keepaliveInterval == 0 {
		e.keepaliveInterval = DefaultKeepaliveInterval
		if v, ok, err := sc.get(t.Host, "ServerAliveInterval"); err != nil {
			return nil, err
		} else if ok {
			if e.keepaliveInterval, err = parseSeconds(v); err != nil {
				return nil, fmt.Errorf("sshtransport: %s: ServerAliveInterval for %s: %v", where(), t.Host, err)
			}
		}
	}
	if e.keepaliveInterval < 0 {
		e.keepaliveInterval = 0
	}
	e.keepaliveCountMax = cfg.KeepaliveCountMax
	if e.keepaliveCountMax <= 0 {
		e.keepaliveCountMax = DefaultKeepaliveCountMax
		if v, ok, err := sc.get(t.Host, "ServerAliveCountMax"); err != nil {
			return nil, err
		} else if ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("sshtransport: %s: ServerAliveCountMax %q for %s: want a positive number", where(), v, t.Host)
			}
			e.keepaliveCountMax = n
		}
	}
	e.connectTimeout = cfg.ConnectTimeout
	if e.connectTimeout <= 0 {
		e.connectTimeout = DefaultConnectTimeout
		if v, ok, err := sc.get(t.Host, "ConnectTimeout"); err != nil {
			return nil, err
		} else if ok {
			d, err := parseSeconds(v)
			if err != nil {
				return nil, fmt.Errorf("sshtransport: %s: ConnectTimeout for %s: %v", where(), t.Host, err)
			}
			if d > 0 {
				e.connectTimeout = d
			}
		}
	}
	return e, nil
}

func parseYesNo(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes", "true":
		return true, nil
	case "no", "false":
		return false, nil
	}
	return false, fmt.Errorf("%q: want yes or no", v)
}

// parseSeconds parses an ssh_config time value: seconds, optionally with
// ssh's suffixes (s, m, h, d, w), e.g. "30" or "1m30s".
func parseSeconds(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	if v == "" {
		return 0, fmt.Errorf("%q: want a number of seconds", v)
	}
	var total time.Duration
	rest := strings.ToLower(v)
	for rest != "" {
		i := 0
		for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("%q: want a number of seconds", v)
		}
		n, _ := strconv.Atoi(rest[:i])
		unit := time.Second
		if i < len(rest) {
			switch rest[i] {
			case 's':
			case 'm':
				unit = time.Minute
			case 'h':
				unit = time.Hour
			case 'd':
				unit = 24 * time.Hour
			case 'w':
				unit = 7 * 24 * time.Hour
			default:
				return 0, fmt.Errorf("%q: want a number of seconds", v)
			}
			i++
		}
		total += time.Duration(n) * unit
		rest = rest[i:]
	}
	return total, nil
}

func localUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

// expandTilde replaces a leading "~" or "~/" with home.
func expandTilde(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}

// tokens are the values of ssh_config's % tokens (ssh_config(5), TOKENS).
type tokens struct {
	home  string
	alias string // %n: the host as typed
	host  string // %h: the remote host name (after HostName)
	port  int    // %p
	user  string // %r: the remote user
}

// expand expands "~" and the % tokens pppssh knows in v, the value of the
// ssh_config keyword (or setting) named what.
func (t tokens) expand(v, what string) (string, error) {
	v = expandTilde(v, t.home)
	if !strings.Contains(v, "%") {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+1 == len(v) {
			return "", fmt.Errorf("sshtransport: %s %q: '%%' at the end (write %%%% for a literal %%)", what, v)
		}
		i++
		switch v[i] {
		case '%':
			b.WriteByte('%')
		case 'd':
			b.WriteString(t.home)
		case 'h':
			b.WriteString(t.host)
		case 'n':
			b.WriteString(t.alias)
		case 'p':
			b.WriteString(strconv.Itoa(t.port))
		case 'r':
			b.WriteString(t.user)
		case 'u':
			b.WriteString(localUser())
		case 'l':
			h, _ := os.Hostname()
			b.WriteString(h)
		default:
			return "", fmt.Errorf("sshtransport: %s %q: unknown token %%%c (pppssh knows %%%% %%d %%h %%l %%n %%p %%r %%u)", what, v, v[i])
		}
	}
	return b.String(), nil
}
