// Package examples holds runnable Troupe services, one per directory, each
// with a README and a test that starts it. It contains no framework code.
package examples
