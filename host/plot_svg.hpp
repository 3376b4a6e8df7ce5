#pragma once
// A self-contained SVG picture of a fit, like the two figures of the reference notebook: the
// data's density histogram with the fitted mixture density and each weighted component, and
// the mean negative log-likelihood per iteration. Written by hand: a few hundred elements of
// plain SVG 1.1, no library needed.

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "betamix/params.hpp"

namespace betamix::detail {

/// What to draw.
struct PlotData {
  const double* x = nullptr;        ///< samples in (0,1)
  const double* weights = nullptr;  ///< case weights (nullable)
  std::size_t n = 0;
  MixtureParams params;         ///< the fitted mixture
  std::vector<double> history;  ///< mean NLL per iteration (the panel says when empty)
  /// The result's mean NLL. Where it is not the last value of `history` (Adam's result is the
  /// best point it passed), the panel marks the iteration that holds it. NaN: not known.
  double result_nll = std::numeric_limits<double>::quiet_NaN();
  std::string title;  ///< e.g. the data file's name
  int bins = 60;      ///< histogram bins on [0, 1]
};

/// The SVG document (UTF-8 text, with an XML declaration).
std::string plot_svg(const PlotData& data);

}  // namespace betamix::detail
