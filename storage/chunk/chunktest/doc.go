// Package chunktest is the conformance suite for chunk stores: the same
// tests run against every implementation of chunk.Collectable, so they all
// mean the same thing by Get, Put, UpdateRefs and GC.
//
// A store's own test calls RunStoreTests with a function that opens a new,
// empty store:
//
//	func TestConformance(t *testing.T) {
//		chunktest.RunStoreTests(t, func(t *testing.T) chunk.Collectable {
//			s := chunk.NewMemoryStore()
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite may close the store itself, so Close must be harmless to repeat.
// Randomized tests log their seed; set CAIRN_SEED to replay one.
package chunktest
