package hdlc_test

import (
	"bytes"
	"fmt"
	"io"

	"github.com/pppssh/pppssh/hdlc"
	"github.com/pppssh/pppssh/ppp"
)

func ExampleEncoder_AppendFrame() {
	// Before LCP opens: default ACCM, FCS-16, full header.
	var enc hdlc.Encoder
	frame := ppp.AppendHeader(nil, ppp.ProtoLCP, false, false)
	frame = ppp.AppendPacket(frame, ppp.CodeTerminateRequest, 1, nil)
	wire := enc.AppendFrame(nil, frame)
	fmt.Printf("% x\n", wire)

	// After LCP agreed on ACCM 0 and header compression, a batch of two
	// IPv4 packets shares the flag between them.
	enc.SetACCM(0)
	var batch []byte
	for _, pkt := range [][]byte{{0x45, 0x7e}, {0x45, 0x00}} {
		frame = ppp.AppendHeader(frame[:0], ppp.ProtoIPv4, true, true)
		frame = append(frame, pkt...)
		batch = enc.AppendFrame(batch, frame)
	}
	fmt.Printf("% x\n", batch)
	// Output:
	// 7e ff 7d 23 c0 21 7d 25 7d 21 7d 20 7d 24 3d c7 7e
	// 7e 21 45 7d 5e 0c 3d 7e 21 45 00 f5 a7 7e
}

func ExampleDecoder() {
	var enc hdlc.Encoder
	stream := []byte("Last login: never\r\n")
	stream = enc.AppendFrame(stream, []byte{0xff, 0x03, 0xc0, 0x21, 0x09, 0x01, 0x00, 0x04})
	stream = enc.AppendFrame(stream, []byte{0xc0, 0x21, 0x0a, 0x01, 0x00, 0x04})

	dec := hdlc.NewDecoder(bytes.NewReader(stream))
	for {
		frame, err := dec.ReadFrame() // valid until the next ReadFrame
		if err == io.EOF {
			break
		}
		proto, info, err := ppp.ParseHeader(frame)
		if err != nil {
			continue
		}
		pkt, err := ppp.ParsePacket(info)
		if err != nil {
			continue
		}
		fmt.Printf("%v %v id=%#x\n", proto, pkt.Code(), pkt.ID())
	}
	fmt.Printf("%+v\n", dec.Stats())
	fmt.Printf("%q\n", dec.Garbage())
	// Output:
	// LCP EchoReq id=0x1
	// LCP EchoRep id=0x1
	// {Frames:2 BadFCS:0 Oversized:0 Short:0 Aborted:0 Outside:19}
	// "Last login: never\r\n"
}
