// The read commands of embers-cli: `query merge|top|series|diff`, `labels`, `label-values` and
// `profile-types`, all over the public querier.v1 API (Connect, binary protobuf), so they work
// against an all-in-one server and a cluster's query-frontend alike.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "base/compression.h"
#include "base/status.h"
#include "base/strings.h"
#include "cmd/cli/commands.h"
#include "cmd/cli/profile_summary.h"
#include "cmd/cli/time_range.h"
#include "querier/v1/querier.pb.h"

namespace embers::cli {
namespace {

constexpr char kQuerier[] = "querier.v1.QuerierService/";
constexpr char kDefaultProfileType[] = "process_cpu:cpu:nanoseconds:cpu:nanoseconds";

// What selects profiles: shared by every query command.
struct Selection {
  std::string profile_type = kDefaultProfileType;
  std::string query = "{}";
  std::string from = "now-1h";
  std::string to = "now";
};

void AddSelectionOptions(CLI::App* cmd, Selection* s, bool with_profile_type = true) {
  if (with_profile_type) {
    cmd->add_option("--profile-type,-t", s->profile_type,
                    "profile type ID, name:sample_type:sample_unit:period_type:period_unit "
                    "(see `embers-cli profile-types`)")
        ->capture_default_str();
  }
  cmd->add_option("--query,-l", s->query, "label selector, e.g. '{service_name=\"api\"}'")
      ->capture_default_str();
  cmd->add_option("--from", s->from, "start: now-1h, RFC 3339 or Unix time")->capture_default_str();
  cmd->add_option("--to", s->to, "end: now, RFC 3339 or Unix time")->capture_default_str();
}

std::string PercentText(int64_t part, int64_t whole) {
  if (whole == 0) return "0.00%";
  return absl::StrFormat("%.2f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

// Fetches the merged profile of a selection; NotFound when nothing matched, so that a wrong
// tenant, selector or range is reported rather than written as an empty file.
absl::StatusOr<google::v1::Profile> MergedProfile(CliContext& context, const Selection& s) {
  EMBERS_ASSIGN_OR_RETURN(TimeRange range, ParseTimeRange(s.from, s.to, absl::Now()));
  EMBERS_ASSIGN_OR_RETURN(EmbersApi * api, context.Api());
  querier::v1::SelectMergeProfileRequest request;
  request.set_profile_typeid(s.profile_type);
  request.set_label_selector(s.query);
  request.set_start(range.start_ms);
  request.set_end(range.end_ms);
  google::v1::Profile profile;
  EMBERS_RETURN_IF_ERROR(api->Call(StrCat(kQuerier, "SelectMergeProfile"), request, &profile));
  if (profile.sample_size() == 0) {
    const std::string tenant = context.options().tenant_id.empty()
                                   ? std::string("the default tenant")
                                   : StrCat("tenant \"", context.options().tenant_id, "\"");
    return absl::NotFoundError(StrCat("no ", s.profile_type, " profiles match ", s.query, " from ",
                                      s.from, " to ", s.to, " for ", tenant));
  }
  return profile;
}

absl::Status WriteOutput(const std::string& path, std::string_view bytes) {
  if (path == "-") {
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    return absl::OkStatus();
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::InvalidArgumentError(StrCat("cannot write ", path));
  return absl::OkStatus();
}

Table TopTable(const ProfileSummary& summary, size_t limit, bool by_total) {
  std::vector<FunctionTotals> functions = summary.functions;
  if (by_total) {
    std::stable_sort(functions.begin(), functions.end(),
                     [](const auto& a, const auto& b) { return a.total > b.total; });
  }
  Table table({"self", "self%", "total", "total%", "function"});
  for (size_t i = 0; i < functions.size() && (limit == 0 || i < limit); ++i) {
    const FunctionTotals& f = functions[i];
    table.AddRow({f.self, PercentText(f.self, summary.total), f.total,
                  PercentText(f.total, summary.total), f.name});
  }
  return table;
}

struct MergeOptions {
  Selection selection;
  std::string format = "pprof";
  std::string output_file;
  std::string sample_type;
  size_t limit = 20;
  bool by_total = false;
};

absl::Status RunMerge(CliContext& context, const MergeOptions& o) {
  EMBERS_ASSIGN_OR_RETURN(google::v1::Profile profile, MergedProfile(context, o.selection));
  if (o.format == "pprof") {
    std::string path = o.output_file.empty() ? "merged.pb.gz" : o.output_file;
    EMBERS_RETURN_IF_ERROR(WriteOutput(path, Gzip(profile.SerializeAsString())));
    if (path != "-") {
      std::fprintf(stderr, "wrote %s (%d samples; view with `go tool pprof -top %s`)\n",
                   path.c_str(), profile.sample_size(), path.c_str());
    }
    return absl::OkStatus();
  }
  EMBERS_ASSIGN_OR_RETURN(int index, SampleTypeIndex(profile, o.sample_type));
  if (o.format == "collapsed") {
    return WriteOutput(o.output_file.empty() ? "-" : o.output_file,
                       CollapsedStacks(profile, index));
  }
  const ProfileSummary summary = Summarize(profile, index);
  context.Print(TopTable(summary, o.limit, o.by_total));
  return absl::OkStatus();
}

struct SeriesOptions {
  Selection selection;
  std::vector<std::string> group_by;
  std::string step = "15s";
  std::string aggregation = "sum";
  int64_t limit = 0;
};

absl::Status RunSeries(CliContext& context, const SeriesOptions& o) {
  EMBERS_ASSIGN_OR_RETURN(TimeRange range,
                          ParseTimeRange(o.selection.from, o.selection.to, absl::Now()));
  absl::Duration step;
  if (!absl::ParseDuration(o.step, &step) || step < absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        StrCat("--step \"", o.step, "\" is not a duration of at least 1s"));
  }
  EMBERS_ASSIGN_OR_RETURN(EmbersApi * api, context.Api());
  querier::v1::SelectSeriesRequest request;
  request.set_profile_typeid(o.selection.profile_type);
  request.set_label_selector(o.selection.query);
  request.set_start(range.start_ms);
  request.set_end(range.end_ms);
  for (const auto& g : o.group_by) request.add_group_by(g);
  request.set_step(absl::ToDoubleSeconds(step));
  request.set_aggregation(o.aggregation == "avg" ? types::v1::TIME_SERIES_AGGREGATION_TYPE_AVERAGE
                                                 : types::v1::TIME_SERIES_AGGREGATION_TYPE_SUM);
  if (o.limit > 0) request.set_limit(o.limit);
  querier::v1::SelectSeriesResponse response;
  EMBERS_RETURN_IF_ERROR(api->Call(StrCat(kQuerier, "SelectSeries"), request, &response));
  std::vector<std::string> columns = {"time"};
  for (const auto& g : o.group_by) columns.push_back(g);
  columns.push_back("value");
  Table table(columns);
  for (const auto& series : response.series()) {
    std::vector<std::string> group(o.group_by.size());
    for (const auto& label : series.labels()) {
      for (size_t i = 0; i < o.group_by.size(); ++i) {
        if (label.name() == o.group_by[i]) group[i] = label.value();
      }
    }
    for (const auto& point : series.points()) {
      std::vector<Table::Cell> row;
      row.push_back(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(point.timestamp()),
                                     absl::UTCTimeZone()));
      for (const auto& g : group) row.push_back(g);
      row.push_back(point.value());
      table.AddRow(std::move(row));
    }
  }
  context.Print(table);
  return absl::OkStatus();
}

struct DiffOptions {
  Selection left;
  Selection right;
  std::string sample_type;
  size_t limit = 20;
};

absl::Status RunDiff(CliContext& context, const DiffOptions& o) {
  EMBERS_ASSIGN_OR_RETURN(google::v1::Profile left, MergedProfile(context, o.left));
  EMBERS_ASSIGN_OR_RETURN(google::v1::Profile right, MergedProfile(context, o.right));
  EMBERS_ASSIGN_OR_RETURN(int left_index, SampleTypeIndex(left, o.sample_type));
  EMBERS_ASSIGN_OR_RETURN(int right_index, SampleTypeIndex(right, o.sample_type));
  const std::vector<FunctionChange> changes =
      DiffSummaries(Summarize(left, left_index), Summarize(right, right_index));
  Table table({"change", "left self%", "right self%", "left self", "right self", "function"});
  for (size_t i = 0; i < changes.size() && (o.limit == 0 || i < o.limit); ++i) {
    const FunctionChange& c = changes[i];
    table.AddRow({absl::StrFormat("%+.2f%%", 100 * (c.right_share - c.left_share)),
                  absl::StrFormat("%.2f%%", 100 * c.left_share),
                  absl::StrFormat("%.2f%%", 100 * c.right_share), c.left_self, c.right_self,
                  c.name});
  }
  context.Print(table);
  return absl::OkStatus();
}

absl::Status RunLabels(CliContext& context, const Selection& s, const std::string& name) {
  EMBERS_ASSIGN_OR_RETURN(TimeRange range, ParseTimeRange(s.from, s.to, absl::Now()));
  EMBERS_ASSIGN_OR_RETURN(EmbersApi * api, context.Api());
  std::vector<std::string> values;
  if (name.empty()) {
    types::v1::LabelNamesRequest request;
    if (s.query != "{}" && !s.query.empty()) request.add_matchers(s.query);
    request.set_start(range.start_ms);
    request.set_end(range.end_ms);
    types::v1::LabelNamesResponse response;
    EMBERS_RETURN_IF_ERROR(api->Call(StrCat(kQuerier, "LabelNames"), request, &response));
    values.assign(response.names().begin(), response.names().end());
  } else {
    types::v1::LabelValuesRequest request;
    request.set_name(name);
    if (s.query != "{}" && !s.query.empty()) request.add_matchers(s.query);
    request.set_start(range.start_ms);
    request.set_end(range.end_ms);
    types::v1::LabelValuesResponse response;
    EMBERS_RETURN_IF_ERROR(api->Call(StrCat(kQuerier, "LabelValues"), request, &response));
    values.assign(response.names().begin(), response.names().end());
  }
  Table table({name.empty() ? "name" : "value"});
  for (auto& v : values) table.AddRow({std::move(v)});
  context.Print(table);
  return absl::OkStatus();
}

absl::Status RunProfileTypes(CliContext& context, const Selection& s) {
  EMBERS_ASSIGN_OR_RETURN(TimeRange range, ParseTimeRange(s.from, s.to, absl::Now()));
  EMBERS_ASSIGN_OR_RETURN(EmbersApi * api, context.Api());
  querier::v1::ProfileTypesRequest request;
  request.set_start(range.start_ms);
  request.set_end(range.end_ms);
  querier::v1::ProfileTypesResponse response;
  EMBERS_RETURN_IF_ERROR(api->Call(StrCat(kQuerier, "ProfileTypes"), request, &response));
  Table table({"id", "name", "sample_type", "sample_unit"});
  for (const auto& t : response.profile_types()) {
    table.AddRow({t.id(), t.name(), t.sample_type(), t.sample_unit()});
  }
  context.Print(table);
  return absl::OkStatus();
}

}  // namespace

void RegisterQueryCommands(CLI::App& root, CliContext& context) {
  CLI::App* query = root.add_subcommand("query", "read profiles: merge, top, series, diff");
  query->require_subcommand(1);

  auto merge = std::make_shared<MergeOptions>();
  CLI::App* m = query->add_subcommand(
      "merge",
      "merge the selected profiles into one: a pprof file, collapsed stacks or a top table");
  AddSelectionOptions(m, &merge->selection);
  m->add_option("--format,-f", merge->format, "pprof (gzipped file), collapsed or top")
      ->check(CLI::IsMember({"pprof", "collapsed", "top"}))
      ->capture_default_str();
  m->add_option("--output-file,-O", merge->output_file,
                "where to write (pprof: merged.pb.gz, collapsed: stdout; '-' is stdout)");
  m->add_option("--sample-type", merge->sample_type,
                "sample type for collapsed/top (default: the profile's last)");
  m->add_option("--limit", merge->limit, "rows of the top table (0: all)")->capture_default_str();
  m->callback([&context, merge] {
    context.SetCommand([&context, merge] { return RunMerge(context, *merge); });
  });

  auto top = std::make_shared<MergeOptions>();
  top->format = "top";
  CLI::App* t = query->add_subcommand("top", "the functions with the most self (or total) time");
  AddSelectionOptions(t, &top->selection);
  t->add_option("--limit", top->limit, "rows (0: all)")->capture_default_str();
  t->add_flag("--by-total", top->by_total, "sort by total instead of self");
  t->add_option("--sample-type", top->sample_type, "sample type (default: the profile's last)");
  t->callback(
      [&context, top] { context.SetCommand([&context, top] { return RunMerge(context, *top); }); });

  auto series = std::make_shared<SeriesOptions>();
  CLI::App* s = query->add_subcommand("series", "time series of the selected profiles' totals");
  AddSelectionOptions(s, &series->selection);
  s->add_option("--group-by,-g", series->group_by, "label names to group by (one line each)")
      ->delimiter(',');
  s->add_option("--step", series->step, "resolution, e.g. 15s, 1m")->capture_default_str();
  s->add_option("--aggregation", series->aggregation, "sum or avg")
      ->check(CLI::IsMember({"sum", "avg"}))
      ->capture_default_str();
  s->add_option("--limit", series->limit, "at most this many series (0: all)");
  s->callback([&context, series] {
    context.SetCommand([&context, series] { return RunSeries(context, *series); });
  });

  auto diff = std::make_shared<DiffOptions>();
  CLI::App* d = query->add_subcommand(
      "diff", "compare two selections: functions ranked by the change of their self share");
  d->add_option("--profile-type,-t", diff->left.profile_type, "profile type ID (both sides)")
      ->capture_default_str();
  d->add_option("--left-query", diff->left.query, "left (baseline) label selector")
      ->capture_default_str();
  d->add_option("--right-query", diff->right.query, "right (comparison) label selector")
      ->capture_default_str();
  d->add_option("--left-from", diff->left.from, "left start")->capture_default_str();
  d->add_option("--left-to", diff->left.to, "left end")->capture_default_str();
  d->add_option("--right-from", diff->right.from, "right start")->capture_default_str();
  d->add_option("--right-to", diff->right.to, "right end")->capture_default_str();
  d->add_option("--sample-type", diff->sample_type, "sample type (default: the profile's last)");
  d->add_option("--limit", diff->limit, "rows (0: all)")->capture_default_str();
  d->callback([&context, diff] {
    diff->right.profile_type = diff->left.profile_type;
    context.SetCommand([&context, diff] { return RunDiff(context, *diff); });
  });

  auto labels = std::make_shared<Selection>();
  CLI::App* l = root.add_subcommand("labels", "label names of the selected series");
  AddSelectionOptions(l, labels.get(), /*with_profile_type=*/false);
  l->callback([&context, labels] {
    context.SetCommand([&context, labels] { return RunLabels(context, *labels, ""); });
  });

  auto values = std::make_shared<Selection>();
  auto value_name = std::make_shared<std::string>();
  CLI::App* v = root.add_subcommand("label-values", "values of one label in the selected series");
  v->add_option("name", *value_name, "label name, e.g. service_name")->required();
  AddSelectionOptions(v, values.get(), /*with_profile_type=*/false);
  v->callback([&context, values, value_name] {
    context.SetCommand(
        [&context, values, value_name] { return RunLabels(context, *values, *value_name); });
  });

  auto types = std::make_shared<Selection>();
  CLI::App* p = root.add_subcommand("profile-types", "profile types with data in the range");
  p->add_option("--from", types->from, "start")->capture_default_str();
  p->add_option("--to", types->to, "end")->capture_default_str();
  p->callback([&context, types] {
    context.SetCommand([&context, types] { return RunProfileTypes(context, *types); });
  });
}

}  // namespace embers::cli
