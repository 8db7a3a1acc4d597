// Package netserver is the broker's Kafka wire server: TCP listeners,
// size-prefixed framing, request headers, kmsg decoding and encoding, and
// in-order responses. It knows nothing of any API's semantics: a Handler
// says which versions of which keys exist and turns each Request into a
// Response.
//
// # Frames
//
// A request is a 4-byte big-endian signed size and that many bytes: api
// key int16, api version int16, correlation id int32, client id (classic
// nullable string; null becomes ""), then, when the request version is
// flexible, a tagged-field section (skipped), then the body.
// ControlledShutdown v0 has no client id (request header v0). A response is
// a 4-byte size, the correlation id, one 0x00 tag byte when the response
// version is flexible and the key is not ApiVersions (18), then the body.
// The response version is the request version.
//
// # Connection-level failures
//
// As Kafka does, the server closes a connection, without answering, when a
// size is negative or above Config.MaxRequestSize, a frame is truncated,
// the header or body does not parse, the key is unknown to kmsg or not
// served by the Handler, or the version is outside the Handler's range.
// The one exception is ApiVersions with a version above the advertised
// maximum: its body is not parsed and it is answered with an ApiVersions v0
// body holding UNSUPPORTED_VERSION (35) and the single entry (18, min, max)
// (KIP-511). Responses queued before the failing request are still
// written. A panic in Handle is recovered, logged, and closes that
// connection only. A connection with nothing read, written or pending for
// Config.IdleTimeout is closed.
//
// # Ordering and concurrency
//
// Each connection has exactly two goroutines. The reader reads a frame,
// parses it and calls Handler.Handle itself, so the requests of one
// connection are handled one at a time in arrival order (Kafka mutes a
// connection in the same way); the next request is read only after Handle
// returned. Responses go through a bounded FIFO queue to the writer, which
// encodes and writes them in order, overlapping with the handling of the
// next request. A NoResponse answer (Produce acks=0) takes its place in the
// queue and writes nothing. When the client stops reading, the writer
// blocks, the queue fills and the reader stops reading: back-pressure.
// Connections are independent: Handle runs concurrently for different
// connections. Server.Close closes the listeners and sockets, cancels the
// context given to Handle and waits for every goroutine of the server,
// including running Handle calls.
//
// # Zero-copy file ranges
//
// A Handler may answer with record data that lives in a file (a segment's
// .log) without reading it into memory. It puts a placeholder from
// NewPlaceholder into the response where the bytes belong (for example as
// a Fetch partition's Records) and lists a FileData with the same
// placeholder, the file and the range. The writer encodes the response,
// finds each placeholder, checks that the bytes before it are the length
// prefix of a field holding exactly the placeholder (int32 for classic
// versions, uvarint length+1 for flexible ones), and sends the frame with
// [prefix + placeholder] replaced by [prefix for the range's size + the
// file bytes]; the frame size accounts for the substitution. File bytes go
// from the file to the socket with sendfile(2) at an explicit offset
// (never the file's shared position). They are copied with ReadAt instead
// on other platforms, on non-TCP connections, for files that are not
// *os.File-like, when sendfile reports EINVAL/ENOSYS, and for clients on
// the same host: loopback traffic gains nothing from zero-copy, and with a
// fixed SO_SNDBUF Linux loopback can lock sendfile into one 64 KiB segment
// per delayed ACK (measured: about 1.5 MB/s with a 100 KiB buffer). A file
// that turns out shorter than the range closes the connection: a short
// frame would desynchronise the client. FileData.Release tells the owner
// of the file when the range is no longer needed.
//
// # Decoding cost
//
// kmsg's released decoder looped once per announced tagged field of a
// flexible message even after the input ran out (a dozen bytes announcing
// 2^32-1 fields kept a reader busy for minutes). kbroker builds with a
// patched kmsg (third_party/kmsg) that stops at the end of the input; the
// header's tag section is parsed here and bounded.
//
// # Imports
//
// kmsg (message types) and zerolog only, besides the standard library. No
// other package of the broker.
package netserver
