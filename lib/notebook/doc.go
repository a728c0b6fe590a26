// Package notebook holds the few things every notebook and command of blockrec needs to know
// about where and how it runs: the scale knob (BLOCKREC_SCALE: smoke, cpu or paper), the root of
// the repository checkout, and an on-disk cache directory for expensive results.
//
// GoNB compiles and runs each notebook cell as a fresh program: declarations persist between
// cells, runtime values do not. So a cell that trains a model or computes activations saves them
// under CacheDir, and later cells load them from there.
package notebook
