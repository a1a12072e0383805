package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const leakySecret = "s3cr3t-XYZ"

// checkNoLeak fails if text shows the secret in any encoding fmt could
// produce: raw, quoted, hexadecimal, as decimal octets, or base64.
func checkNoLeak(t *testing.T, what, text string) {
	t.Helper()
	b := []byte(leakySecret)
	for _, form := range []string{
		leakySecret,
		"s3cr3t",
		strings.Trim(fmt.Sprintf("%q", leakySecret), `"`),
		hex.EncodeToString(b),
		strings.ToUpper(hex.EncodeToString(b)),
		strings.Trim(fmt.Sprint(b), "[]")[:11], // "115 51 99 1"
		"0x73, 0x33",
		base64.StdEncoding.EncodeToString(b)[:8],
	} {
		if strings.Contains(text, form) {
			t.Errorf("%s shows the secret as %q: %s", what, form, text)
		}
	}
}

func TestSecretRedaction(t *testing.T) {
	s := NewSecret([]byte(leakySecret))
	if s.Len() != len(leakySecret) || !s.Equal(NewSecret([]byte(leakySecret))) || s.Equal(NewSecret([]byte("s3cr3t-XYz"))) || s.Equal(Secret{}) {
		t.Fatalf("Len or Equal wrong")
	}
	if !(Secret{}).Equal(NewSecret(nil)) || (Secret{}).Len() != 0 {
		t.Errorf("the zero Secret is not the empty secret")
	}
	e := Entry{Client: "alice", Server: "gw", Secret: s, Addresses: []string{"10.0.0.2"}, File: "pap-secrets", Line: 3}
	secrets := mustSecrets(t, "pap-secrets", "alice gw "+leakySecret+"\n")
	type wrapper struct {
		s       Secret   // unexported: fmt prints it by reflection
		e       Entry    // likewise
		ep      *Entry   // a pointer below the top
		secrets *Secrets // likewise
	}
	w := wrapper{s, e, &e, secrets}
	values := map[string]any{
		"Secret":   s,
		"*Secret":  &s,
		"Entry":    e,
		"*Entry":   &e,
		"[]Entry":  []Entry{e},
		"*Secrets": secrets,
		"wrapper":  w,
		"*wrapper": &w,
		"map":      map[string]Secret{"pw": s},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%p", "%10.3v", "%-x", "% x", "%#x", "%U", "%c"} {
			checkNoLeak(t, name+" "+verb, fmt.Sprintf(verb, v))
		}
		checkNoLeak(t, name+" Sprint", fmt.Sprint(v))
		checkNoLeak(t, name+" Sprintln", fmt.Sprintln(v))

		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("msg", "v", v, slog.Group("g", "v", v))
		slog.New(slog.NewJSONHandler(&js, nil)).Info("msg", "v", v, slog.Group("g", "v", v))
		checkNoLeak(t, name+" slog text", text.String())
		checkNoLeak(t, name+" slog JSON", js.String())
		if j, err := json.Marshal(v); err == nil {
			checkNoLeak(t, name+" json", string(j))
		}
	}
	for verb, want := range map[string]string{"%v": hidden, "%s": hidden, "%#v": hidden, "%q": hidden, "%x": hidden} {
		if got := fmt.Sprintf(verb, s); got != want {
			t.Errorf("%s of a Secret: %q, want %q", verb, got, want)
		}
	}
	if got := fmt.Sprintf("%+v", e); got != "{Client:alice Server:gw Secret:<hidden> SecretFile: Addresses:[10.0.0.2] Options:[] File:pap-secrets Line:3}" {
		t.Errorf("%%+v of an Entry: %s", got)
	}
	var text bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("login", "password", s)
	if !strings.Contains(text.String(), "password=<hidden>") {
		t.Errorf("slog: %s", text.String())
	}
}

func TestNewSecretCopies(t *testing.T) {
	b := []byte("abc")
	s := NewSecret(b)
	b[0] = 'x'
	if !s.Equal(NewSecret([]byte("abc"))) {
		t.Errorf("NewSecret kept the caller's slice")
	}
}

func TestStrings(t *testing.T) {
	s := NewSecret([]byte(leakySecret))
	secrets := mustSecrets(t, "f", "a b c\n")
	for _, c := range []struct{ got, want string }{
		{s.String(), hidden},
		{s.GoString(), hidden},
		{s.LogValue().String(), hidden},
		{secrets.GoString(), "auth.Secrets(f, 1 entries)"},
		{Authenticator.String(), "authenticator"},
		{Authenticatee.String(), "authenticatee"},
		{Role(9).String(), "Role(9)"},
		{WrongSecret.String(), "wrong secret"},
		{LocalFailure.String(), "local failure"},
		{Cause(0).String(), "Cause(0)"},
		{Pending.String(), "pending"},
		{Failed.String(), "failed"},
		{Status(7).String(), "Status(7)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
