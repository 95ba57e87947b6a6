#include "train/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace bf::train {

namespace {

constexpr double kWidth = 720, kHeight = 300;
constexpr double kLeft = 72, kRight = 16, kTop = 40, kBottom = 46;
constexpr std::size_t kMaxPoints = 1500;
const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                               "#9467bd", "#8c564b", "#e377c2", "#17becf"};

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Tick label precise enough to tell neighbouring ticks apart.
std::string tick_label(double v, double step) {
  if (std::abs(v) < step * 1e-9) return "0";
  const double mag = std::max(std::abs(v), step);
  if (mag >= 1e6 || mag < 1e-3) return fmt("%.2g", v);
  return fmt("%.6g", v);
}

// Domain of an axis widened so that a flat series still gets a range.
std::pair<double, double> padded(Range r) {
  if (r.lo == r.hi) {
    const double pad = r.lo == 0 ? 1.0 : std::abs(r.lo) * 0.1;
    return {r.lo - pad, r.hi + pad};
  }
  return {r.lo, r.hi};
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo) || target < 1) return {lo};
  const double rough = (hi - lo) / target;
  const int exponent = static_cast<int>(std::floor(std::log10(rough)));
  const double mag = std::pow(10.0, exponent);
  double multiple = 10;
  for (double m : {1.0, 2.0, 5.0}) {
    if (rough <= m * mag) {
      multiple = m;
      break;
    }
  }
  // Tick k is k*multiple * 10^exponent; dividing by 10^-exponent for small
  // steps keeps values like 0.6 exact instead of 0.6000000000000001.
  auto tick = [&](double k) { return exponent < 0 ? k * multiple / std::pow(10.0, -exponent) : k * multiple * mag; };
  const double step = multiple * mag;
  std::vector<double> ticks;
  for (double k = std::ceil(lo / step - 1e-9); tick(k) <= hi + step * 1e-9; k += 1) ticks.push_back(tick(k));
  return ticks;
}

ChartSeries downsample(const ChartSeries& series, std::size_t max_points) {
  const std::size_t n = std::min(series.x.size(), series.y.size());
  if (n <= max_points || max_points == 0) return series;
  ChartSeries out{series.name, {}, {}};
  for (std::size_t b = 0; b < max_points; ++b) {
    const std::size_t begin = b * n / max_points, end = (b + 1) * n / max_points;
    double sx = 0, sy = 0;
    std::size_t count = 0;
    for (std::size_t i = begin; i < end; ++i) {
      if (!std::isfinite(series.x[i]) || !std::isfinite(series.y[i])) continue;
      sx += series.x[i];
      sy += series.y[i];
      ++count;
    }
    if (count == 0) continue;
    out.x.push_back(sx / count);
    out.y.push_back(sy / count);
  }
  return out;
}

std::string render_svg_chart(const Chart& chart) {
  std::vector<ChartSeries> series;
  Range xr, yr;
  for (const auto& s : chart.series) {
    series.push_back(downsample(s, kMaxPoints));
    const auto& d = series.back();
    for (std::size_t i = 0; i < std::min(d.x.size(), d.y.size()); ++i) {
      if (!std::isfinite(d.x[i]) || !std::isfinite(d.y[i])) continue;
      xr.add(d.x[i]);
      yr.add(d.y[i]);
    }
  }
  std::string svg = "<svg class=\"chart\" viewBox=\"0 0 " + fmt("%.0f", kWidth) + " " + fmt("%.0f", kHeight) +
                    "\" width=\"" + fmt("%.0f", kWidth) + "\" height=\"" + fmt("%.0f", kHeight) +
                    "\" role=\"img\" aria-label=\"" + html_escape(chart.title) + "\">\n";
  svg += "<text class=\"title\" x=\"" + fmt("%.1f", kLeft) + "\" y=\"20\">" + html_escape(chart.title) + "</text>\n";
  if (xr.empty()) {
    svg += "<text x=\"" + fmt("%.1f", kWidth / 2) + "\" y=\"" + fmt("%.1f", kHeight / 2) +
           "\" text-anchor=\"middle\">no data</text>\n</svg>\n";
    return svg;
  }
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  const auto y_ticks = nice_ticks(padded(yr).first, padded(yr).second, 5);
  const auto x_ticks = nice_ticks(padded(xr).first, padded(xr).second, 6);
  // The y domain snaps outwards to whole ticks; x stays at the data's extent.
  const double y_step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1.0;
  const double y0 = std::min(padded(yr).first, std::floor(yr.lo / y_step) * y_step);
  const double y1 = std::max(padded(yr).second, std::ceil(yr.hi / y_step) * y_step);
  // Not a structured binding: C++17 lambdas cannot capture those (clang refuses).
  const double x0 = padded(xr).first, x1 = padded(xr).second;
  auto px = [&](double x) { return kLeft + (x - x0) / (x1 - x0) * plot_w; };
  auto py = [&](double y) { return kTop + plot_h - (y - y0) / (y1 - y0) * plot_h; };

  // Grid, ticks and labels.
  for (double t : nice_ticks(y0, y1, 5)) {
    const std::string y = fmt("%.1f", py(t));
    svg += "<line class=\"grid\" x1=\"" + fmt("%.1f", kLeft) + "\" x2=\"" + fmt("%.1f", kLeft + plot_w) + "\" y1=\"" +
           y + "\" y2=\"" + y + "\"/>";
    svg += "<text class=\"tick\" x=\"" + fmt("%.1f", kLeft - 6) + "\" y=\"" + y + "\" text-anchor=\"end\" dy=\"0.32em\">" +
           tick_label(t, y_step) + "</text>\n";
  }
  const double x_step = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1.0;
  for (double t : x_ticks) {
    if (t < x0 || t > x1) continue;
    const std::string x = fmt("%.1f", px(t));
    svg += "<line class=\"axis\" x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" + fmt("%.1f", kTop + plot_h) + "\" y2=\"" +
           fmt("%.1f", kTop + plot_h + 5) + "\"/>";
    svg += "<text class=\"tick\" x=\"" + x + "\" y=\"" + fmt("%.1f", kTop + plot_h + 18) +
           "\" text-anchor=\"middle\">" + tick_label(t, x_step) + "</text>\n";
  }
  svg += "<rect class=\"frame\" x=\"" + fmt("%.1f", kLeft) + "\" y=\"" + fmt("%.1f", kTop) + "\" width=\"" +
         fmt("%.1f", plot_w) + "\" height=\"" + fmt("%.1f", plot_h) + "\"/>\n";
  svg += "<text class=\"label\" x=\"" + fmt("%.1f", kLeft + plot_w / 2) + "\" y=\"" + fmt("%.1f", kHeight - 8) +
         "\" text-anchor=\"middle\">" + html_escape(chart.x_label) + "</text>\n";
  svg += "<text class=\"label\" transform=\"translate(16 " + fmt("%.1f", kTop + plot_h / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + html_escape(chart.y_label) + "</text>\n";

  // Lines, then the legend along the top right.
  double legend_x = kWidth - kRight;
  for (std::size_t k = series.size(); k-- > 0;) {
    const auto& s = series[k];
    const std::string color = kColors[k % (sizeof kColors / sizeof kColors[0])];
    std::string points;
    std::size_t count = 0;
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      points += fmt("%.1f", px(s.x[i])) + "," + fmt("%.1f", py(s.y[i])) + " ";
      ++count;
    }
    if (count == 0) continue;
    if (!points.empty()) points.pop_back();
    svg += "<polyline fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.5\" points=\"" + points + "\"/>\n";
    if (count == 1) {
      const auto comma = points.find(',');
      svg += "<circle r=\"3\" fill=\"" + color + "\" cx=\"" + points.substr(0, comma) + "\" cy=\"" +
             points.substr(comma + 1) + "\"/>\n";
    }
    legend_x -= 14 + 7.0 * static_cast<double>(s.name.size());
    svg += "<rect x=\"" + fmt("%.1f", legend_x) + "\" y=\"24\" width=\"10\" height=\"10\" fill=\"" + color + "\"/>";
    svg += "<text class=\"legend\" x=\"" + fmt("%.1f", legend_x + 13) + "\" y=\"33\">" + html_escape(s.name) +
           "</text>\n";
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace bf::train
