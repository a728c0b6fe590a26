// Package backend chooses the GoMLX backend that runs every blockrec computation, and installs the
// fixes blockrec needs on top of GoMLX v0.26.0.
//
// Choice, in order:
//  1. $GOMLX_BACKEND, if set ("go", "go:<options>", "xla:<plugin name>", "xla:/abs/path/plugin.so").
//     An unknown backend name or a plugin path that does not exist is an error naming the value.
//  2. XLA/PJRT, if a PJRT plugin (CUDA first, then CPU) is installed where go-xla searches.
//  3. The pure-Go backend ("go"), with a one-line notice saying why.
//
// XLA's automatic plugin download is always switched off: these machines have no route to GitHub,
// and a program must never hang or die trying. The pure-Go backend is started with unlimited
// parallelism unless its options say otherwise, because its default bounded worker pool can
// deadlock on 2 cores inside DotGeneral.
//
// Importing this package also replaces GoMLX's DotGeneral gradient by one made of two DotGenerals
// (see dotgrad.go): the stock gradient materialises a [batch, lhsCross, rhsCross, contracting]
// tensor that the pure-Go backend cannot fuse away.
//
// LastOutputs works around a pure-Go backend failure on graphs with unused nodes (a model's head
// built but not returned): pass a graph function's outputs through it.
package backend
