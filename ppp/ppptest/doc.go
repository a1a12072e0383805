// Package ppptest provides test doubles for the ppp package and for the
// control protocols built on it: a Handler with a single option that records
// what the automaton asks of it, a Recorder standing in for the owner's send
// function and restart timer, and a Wire joining two automata in memory.
//
// None of them is safe for concurrent use; like the automaton, they belong to
// the goroutine that drives the test.
package ppptest
