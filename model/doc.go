// Package model holds the small value types that cross package boundaries
// in kbroker: offsets, leader epochs, broker ids and topic-partitions.
//
// It imports nothing from the project and owns no state; every other package
// may import it. Typed values (model.Offset rather than int64) keep offsets,
// epochs and ids from being mixed up across rooms.
package model
