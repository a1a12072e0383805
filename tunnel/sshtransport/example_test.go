package sshtransport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/pppssh/pppssh/tunnel/sshtransport"
)

// Connect as "ssh gw.example.org" would, start "pppssh serve" there and use
// its stdin and stdout as the link's byte stream.
func ExampleDial() {
	ctx := context.Background()
	c, err := sshtransport.Dial(ctx, "gw.example.org", &sshtransport.ClientConfig{AcceptNew: true})
	if err != nil {
		log.Fatal(err) // a *HostKeyError says what to do about the host key
	}
	defer c.Close()
	fmt.Println("connected to", c.Addr(), "host key", c.HostKeyFingerprint())

	stream, err := c.Exec(ctx, sshtransport.ExecOptions{
		Args: []string{"pppssh", "serve", "--remote-route", "203.0.113.0/24"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer stream.Close()
	var link io.ReadWriteCloser = stream // hand it to the tunnel engine
	_ = link

	if err := stream.Wait(); err != nil {
		var ee *sshtransport.ExitError
		if errors.As(err, &ee) {
			// "…exited with status 1; it printed: sudo: a password is required"
			log.Print(ee)
		}
	}
}

// Serve sessions for the keys in an authorized_keys file, each with the
// tunnel settings its options give it.
func ExampleServer() {
	hostKey, created, err := sshtransport.LoadOrCreateHostKey("/etc/pppssh/ssh_host_ed25519_key")
	if err != nil {
		log.Fatal(err)
	}
	if created {
		fmt.Fprintln(os.Stderr, "generated host key", sshtransport.Fingerprint(hostKey.PublicKey()))
	}
	srv, err := sshtransport.NewServer(sshtransport.ServerConfig{
		HostKey:            hostKey,
		AuthorizedKeysFile: "/etc/pppssh/authorized_keys",
	})
	if err != nil {
		log.Fatal(err) // names each bad line, e.g. authorized_keys:3
	}
	err = srv.ListenAndServe(context.Background(), "127.0.0.1:2222", func(ctx context.Context, sess *sshtransport.Session) error {
		// sess.Key.Settings: the key's pppssh-address, pppssh-pool and
		// pppssh-allow-route; sess.Args: the client's arguments.
		for _, a := range sess.Args {
			fmt.Fprintln(sess.Stderr(), "argument:", a)
		}
		_, err := io.Copy(sess, sess) // run the link over sess instead
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
}
