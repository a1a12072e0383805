package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
)

// iperfResult is what runIperf reads of iperf3's JSON output (iperf3 -J).
type iperfResult struct {
	Error string `json:"error"`
	End   struct {
		SumReceived struct {
			Seconds       float64 `json:"seconds"`
			Bytes         int64   `json:"bytes"`
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
		SumSent struct {
			Retransmits int `json:"retransmits"`
		} `json:"sum_sent"`
	} `json:"end"`
}

// runIperf prints "mbps=M bytes=N secs=S retr=R" from an iperf3 client's
// JSON output: the receiver's figures (what arrived, whichever side
// received) and the sender's TCP retransmissions.
func runIperf(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: iperf FILE")
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	r, err := parseIperf(b)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	s := r.End.SumReceived
	fmt.Printf("mbps=%.1f bytes=%d secs=%.3f retr=%d\n", s.BitsPerSecond/1e6, s.Bytes, s.Seconds, r.End.SumSent.Retransmits)
	return nil
}

func parseIperf(b []byte) (*iperfResult, error) {
	var r iperfResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	if r.Error != "" {
		return nil, fmt.Errorf("iperf3: %s", r.Error)
	}
	if r.End.SumReceived.Bytes == 0 || r.End.SumReceived.Seconds == 0 {
		return nil, errors.New("iperf3 received nothing")
	}
	return &r, nil
}

// ping's output (iputils): one line per answer with "time=0.123 ms", and
// the summary "20 packets transmitted, 20 received, …".
var (
	pingCounts = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`)
	pingTime   = regexp.MustCompile(`time=([0-9.]+) ms`)
)

// runPing prints "rtt_min=A rtt_med=B rtt_avg=C rtt_max=D sent=N
// received=M" (milliseconds) from ping's output (not -q). The median is
// what the table shows: on a busy machine a few answers delayed by the
// scheduler move the mean far more than the tunnel does.
func runPing(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: ping FILE")
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	p, err := parsePing(string(b))
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	fmt.Printf("rtt_min=%.3f rtt_med=%.3f rtt_avg=%.3f rtt_max=%.3f sent=%d received=%d\n",
		p.times.Min, p.times.Median, p.avg, p.times.Max, p.sent, p.received)
	return nil
}

type pingStats struct {
	times          stat
	avg            float64
	sent, received int
}

func parsePing(out string) (pingStats, error) {
	var p pingStats
	c := pingCounts.FindStringSubmatch(out)
	if c == nil {
		return p, errors.New("no ping summary")
	}
	p.sent, _ = strconv.Atoi(c[1])
	p.received, _ = strconv.Atoi(c[2])
	var times []float64
	var sum float64
	for _, m := range pingTime.FindAllStringSubmatch(out, -1) {
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			return p, err
		}
		times = append(times, v)
		sum += v
	}
	if len(times) == 0 {
		return p, fmt.Errorf("no answers (%d sent)", p.sent)
	}
	p.times = summarize(times)
	p.avg = sum / float64(len(times))
	return p, nil
}
