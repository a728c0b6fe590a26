// Package stats holds the small set of interval estimates, paired tests and
// verdict rules that blockrec uses to report its numbers with their
// uncertainty.
//
// Which interval to use when:
//
//   - An accuracy or any other fraction of n independent items: [Proportion]
//     or [Wilson]. Wilson keeps close to its nominal coverage even for small n
//     or a fraction near 0 or 1, where the textbook normal ("Wald") interval
//     fails. [ClopperPearson] is the exact, conservative alternative (coverage
//     at least the level); prefer it when a claim must not be overstated, for
//     example "zero errors in n trials".
//   - The mean of a few roughly normal, independent values, such as one metric
//     over teacher seeds: [MeanCI] (Student t). With n = 1 the interval is
//     infinite and every verdict on it is [NotTestable].
//   - Any other statistic of n independent items (a median, a ratio of means,
//     an R² over images): [Bootstrap], the percentile interval of the
//     statistic over resampled items. It needs n large enough for the sample
//     to represent the population (tens of items at least).
//   - Two conditions measured on the same items (two models on the same
//     images): [PairedDiff] for a continuous score, [McNemar] for right/wrong
//     outcomes. Pairing removes the per-item variation that both conditions
//     share, so it is much more sensitive than comparing two separate
//     intervals.
//   - A linear trend or a dependence on several covariates: [OLS], with
//     t intervals on each coefficient (independent, homoscedastic errors).
//
// [Above] and [Below] turn an interval into a [Verdict] on a claim of the form
// "the quantity is above (below) a threshold": it holds when the whole interval
// lies on the claimed side, is contradicted when the whole interval lies on the
// other side, and is not testable at this scale otherwise.
//
// Every function reports bad input (empty samples, levels outside (0, 1),
// non-finite values, mismatched lengths) as an error and never panics.
package stats
