// Package parity checks that blockrec's two engines, XLA through a PJRT plugin and GoMLX's pure-Go
// backend, compute the same numbers from the same weights and inputs: a ViT's forward pass and the
// gradient of its loss with respect to every weight, a Raptor teacher-forced and autoregressive
// training step (loss and every gradient), and the DINOv2 fixtures' hidden states.
//
// It holds only tests (and the helpers they share). They need the XLA CPU plugin
// (scripts/install_xla_cpu.sh installs it); without it they skip, unless
// BLOCKREC_EXPECT_BACKEND=xla is set (as CI does), in which case they fail. The tolerance is a
// relative error of 1e-4: max|xla − go| / max|go| over each tensor.
package parity
