package topic_test

import (
	"fmt"
	"slices"

	"github.com/troupehq/troupe/actors/internal/topic"
)

func Example() {
	subs := topic.NewTrie[string]()
	_ = subs.Insert("orders.*.created", "audit")
	_ = subs.Insert("orders.>", "archiver")
	_ = subs.Insert("billing.>", "ledger")

	got := subs.AppendMatches(nil, "orders.eu.created")
	slices.Sort(got) // Match reports in no particular order
	fmt.Println(got)

	fmt.Println(topic.ValidateSubject("orders..created"))
	fmt.Println(subs.Insert("orders.>.created", "bad"))
	// Output:
	// [archiver audit]
	// topic: empty token at position 2 in "orders..created"
	// topic: wildcard ">" before the last token at position 2 in "orders.>.created"
}
