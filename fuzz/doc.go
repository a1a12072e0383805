// Package fuzz holds pppssh's cross-package fuzz targets: native Go fuzz
// targets that drive whole links and engines, where the targets beside
// each decoder (hdlc, ppp, lcp, ipcp, link, tunnel, cmd/pppssh) drive one
// package at a time. It has no API; nothing imports it. (Its subpackage
// fuzz/peer is the other side of fuzzing: it tests other PPP
// implementations.)
//
//   - FuzzLinkStream runs a link (package link) over net.Pipe and plays the
//     peer from a script the fuzzer writes: raw octets, well-formed frames
//     of any protocol, replies to the link's own Configure-Requests, and
//     pauses, under testing/synctest, so that the restart timers and
//     keep-alives fire in fake time and a run is deterministic. It checks
//     every frame the link sends (framing, FCS, ACCM, header compression,
//     the peer's MRU), the counters of the automata, the link's states and
//     events, that its output stays bounded by its input, and that it
//     opens, keeps negotiating within its counters, or ends with a reason,
//     returning within its timers once the stream ends.
//   - FuzzEnginePair joins two tunnel engines, each with a tuntest device,
//     through a middle that flips bits in, drops, duplicates, reorders,
//     truncates and delays their frames as the script says. Every IPv4
//     packet a device receives must be one the other end sent, octet for
//     octet; once the middle stops interfering both ends must reach IPCP
//     Opened with matching addresses and carry a packet each way, or both
//     end with a reason; closed, both must return in bounded fake time.
//
// The seed corpora under testdata/fuzz come from real traffic: two pppssh
// links talking to each other, and pppd 2.4.9 (the capture of package
// interop and hdlc's serial-line capture). TestSeeds checks that they still
// bring a link up; "go test ./fuzz -run TestSeeds -update" writes them
// again, together with real-traffic seeds for the per-package targets.
//
// Run a target for a while with
//
//	go test ./fuzz -run '^$' -fuzz '^FuzzEnginePair$' -fuzztime 5m
//
// or every fuzz target of the module, each in turn, with scripts/fuzz
// ("scripts/fuzz 10m", or "scripts/fuzz 10m ./fuzz FuzzEnginePair" for
// one). A failing input is written under testdata/fuzz/<Target>/ and stays
// there as a regression case: plain "go test ./fuzz" runs every file of
// the corpus.
package fuzz
