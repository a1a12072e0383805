package pppdvm

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestArchive writes an archive and unpacks it with busybox cpio (the
// same tool family as the guest's) to check the newc encoding: names,
// contents, modes, symlinks, implicit directories and padding of every
// length.
func TestArchive(t *testing.T) {
	Require(t)
	a := newArchive()
	for n := 0; n < 9; n++ { // names and data of every length modulo 4
		a.file("d/f"+strings.Repeat("x", n), bytes.Repeat([]byte{byte('a' + n)}, n), 0o640)
	}
	a.file("/bin/tool", []byte("#!/bin/sh\n"), 0o755)
	a.symlink("bin/sh", "busybox")
	a.dir("empty/dir")
	var buf bytes.Buffer
	if err := a.writeTo(&buf); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%4 != 0 {
		t.Errorf("archive of %d octets, want a multiple of 4", buf.Len())
	}
	dir := t.TempDir()
	cmd := exec.Command(busyboxPath, "cpio", "-i", "-d", "-m")
	cmd.Dir = dir
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("busybox cpio: %v\n%s", err, out)
	}
	for n := 0; n < 9; n++ {
		p := filepath.Join(dir, "d", "f"+strings.Repeat("x", n))
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(b, bytes.Repeat([]byte{byte('a' + n)}, n)) {
			t.Errorf("%s: %q, %v", p, b, err)
		}
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o640 {
			t.Errorf("%s: mode %v, %v; want 0640", p, fi.Mode(), err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "bin/tool")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("bin/tool: %v", err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "bin/sh")); err != nil || target != "busybox" {
		t.Errorf("bin/sh -> %q, %v; want busybox", target, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "empty/dir")); err != nil || !fi.IsDir() {
		t.Errorf("empty/dir: %v", err)
	}
}

// TestArchiveDeterministic checks that equal trees give equal octets,
// whatever order they were built in.
func TestArchiveDeterministic(t *testing.T) {
	var out [2]bytes.Buffer
	for i, names := range [][]string{{"a", "b/c", "d"}, {"d", "b/c", "a"}} {
		a := newArchive()
		for _, n := range names {
			a.file(n, []byte(n), 0o644)
		}
		if err := a.writeTo(&out[i]); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out[0].Bytes(), out[1].Bytes()) {
		t.Error("the same tree gave different archives")
	}
}

func TestOptionsFile(t *testing.T) {
	got, err := optionsFile([]string{"noauth", "192.0.2.1:192.0.2.2", "name", `a "b" c\d`, "remotename", "#x", ""})
	if err != nil {
		t.Fatal(err)
	}
	want := "/dev/hvc0\nnodetach\ndebug\ndebug\nlogfd\n2\nnoauth\n192.0.2.1:192.0.2.2\nname\n" +
		`"a \"b\" c\\d"` + "\nremotename\n\"#x\"\n\"\"\n"
	if string(got) != want {
		t.Errorf("optionsFile:\n%s\nwant\n%s", got, want)
	}
	if _, err := optionsFile([]string{"a\nb"}); err == nil {
		t.Error("optionsFile accepted a line break")
	}
}

func TestNthLine(t *testing.T) {
	log := "one x\ntwo x x\nthree\npartial x"
	for _, tc := range []struct {
		s    string
		n    int
		want string
		ok   bool
	}{
		{"x", 1, "one x", true},
		{"x", 2, "two x x", true},
		{"x", 3, "two x x", true},
		{"x", 4, "", false}, // its line is not finished
		{"x", 5, "", false},
		{"three", 1, "three", true},
		{"four", 1, "", false},
	} {
		got, ok := nthLine(log, tc.s, tc.n)
		if got != tc.want || ok != tc.ok {
			t.Errorf("nthLine(%q, %d) = %q, %v; want %q, %v", tc.s, tc.n, got, ok, tc.want, tc.ok)
		}
	}
}
