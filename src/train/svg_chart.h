#pragma once
// Inline SVG line charts for report.html: axes, ticks, labels, a legend.
// Self-contained markup (no xmlns URL, no scripts, no external resources).
#include <string>
#include <vector>

namespace bf::train {

struct ChartSeries {
  std::string name;
  std::vector<double> x, y;  // same length; non-finite points are skipped
};

struct Chart {
  std::string title;
  std::string x_label = "step";
  std::string y_label;
  std::vector<ChartSeries> series;
};

std::string render_svg_chart(const Chart& chart);

// Round tick values covering [lo, hi], about `target` of them (1-2-5 steps).
std::vector<double> nice_ticks(double lo, double hi, int target);
// At most max_points points: consecutive points averaged in equal buckets.
ChartSeries downsample(const ChartSeries& series, std::size_t max_points);
// &, <, >, " and ' as entities.
std::string html_escape(const std::string& text);

}  // namespace bf::train
