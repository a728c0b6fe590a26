// Package data reads the image data sets blockrec trains and analyses on, and turns them into
// batches of normalised float32 images (NHWC) for the ViT.
//
// Sources, in the order [Open] tries them:
//
//   - CIFAR-100, the official binary release (cifar-100-binary.tar.gz), from the cache directory
//     (default <repo>/data/) or downloaded into it when the network allows; its MD5 is checked
//     before anything is extracted. CIFAR-10's binary release is read the same way ([CIFAR10]).
//   - The CIFAR-10 JPEG re-encoding shipped in the shared folder (cifar10-jpg.tar.gz), checked
//     against the folder's SHA256SUMS, extracted once into the cache directory and read with the
//     class-folder reader ([ReadImageFolder]). It stands in for CIFAR-100 on machines without
//     internet; results on it are CIFAR-10 results, and the Dataset's Name and Provenance say so.
//   - Fashion-MNIST as Debian and Ubuntu package it (dataset-fashion-mnist, files in
//     /usr/share/datasets/fashion-mnist or $BLOCKREC_FASHION_MNIST): 70,000 real images, padded
//     from 28×28 grey to 32×32 RGB ([LoadFashionMNIST]). A real offline data set, so that a
//     machine without CIFAR still trains on real images; results are Fashion-MNIST results.
//   - A synthetic, learnable task of coloured blobs ([Synthetic]) when neither is available.
//
// Images are held as uint8 HWC row-major ([Dataset].Pixels is N×H×W×C contiguous). A [Batcher]
// yields shuffled, optionally augmented (random crop with zero padding, horizontal flip) and
// normalised training batches, deterministically from a seed and a position (epoch, step) so that
// training can resume exactly; an [EvalIterator] yields test batches in order. [Preprocessor]
// implements DINOv2-style preprocessing (bicubic resize of the shorter side, centre crop, ImageNet
// normalisation).
//
// The environment variable BLOCKREC_OFFLINE=1 keeps the package off the network entirely;
// BLOCKREC_SHARED_DATA overrides the shared data folder (default ../shared/data next to the repo).
package data
