// Tests of the OTLP profiles adapter against the OTel eBPF profiler capture in
// ../shared/testdata/pyroscope/otlp: totals per sample type equal upstream's expected outputs.
#include "ingest/adapters/otlp.h"

#include <map>
#include <set>

#include "base/status.h"
#include "base/strings.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "ingest/legacy/testdata_util.h"
#include "nlohmann/json.hpp"
#include "pprof/split.h"

namespace embers::ingest {
namespace {

using testing::ReadFileOrDie;

// Sum of sample values per "type:unit", over the profiles of `service` ("" = all).
std::map<std::string, int64_t> Totals(const std::vector<IngestProfile>& profiles,
                                      std::string_view service = "") {
  std::map<std::string, int64_t> totals;
  for (const IngestProfile& p : profiles) {
    if (!service.empty() && p.labels.Get("service_name") != service) continue;
    const pprof::ValueType& vt = p.profile.sample_types.at(0);
    totals[StrCat(p.profile.String(vt.type), ":", p.profile.String(vt.unit))] += p.profile.Total(0);
  }
  return totals;
}

std::map<std::string, int64_t> ExpectedTotals(const std::string& dir) {
  std::map<std::string, int64_t> totals;
  for (const char* file :
       {"otel-ebpf-profile-cpu.expected.json", "otel-ebpf-profile-offcpu.expected.json"}) {
    auto j = nlohmann::json::parse(ReadFileOrDie(dir + "/otlp/" + file));
    const std::string key = StrCat(j["sample_types"][0]["type"].get<std::string>(), ":",
                                   j["sample_types"][0]["unit"].get<std::string>());
    for (const auto& s : j["samples"]) {
      const auto& v = s["values"];
      totals[key] += std::stoll(v.is_array() ? v[0].get<std::string>() : v.get<std::string>());
    }
  }
  return totals;
}

TEST(Otlp, EbpfCaptureMatchesExpectedTotals) {
  EMBERS_REQUIRE_TESTDATA(dir);
  const std::string body =
      ReadFileOrDie(dir + "/otlp/otel-ebpf-profile.ExportProfilesServiceRequest.pb");
  auto request = ParseOtlpHttpBody("application/x-protobuf", body);
  ASSERT_TRUE(request.ok()) << request.status();
  auto out = ConvertOtlp(*request);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_FALSE(out->empty());
  // Upstream's expected outputs are queries of service_name="unknown_service" (resources with
  // neither service.name nor process.executable.name); the others are named after their
  // executable.
  EXPECT_EQ(Totals(*out, "unknown_service"), ExpectedTotals(dir));
  std::set<std::string> services;
  for (const IngestProfile& p : *out) services.insert(std::string(p.labels.Get("service_name")));
  EXPECT_TRUE(services.contains("unknown_service:containerd"));

  std::set<std::string> ids;
  for (const IngestProfile& p : *out) {
    EXPECT_EQ(p.labels.Get("__otel__"), "true");
    EXPECT_EQ(p.labels.Get("__delta__"), "false");
    EXPECT_FALSE(p.labels.Get("service_name").empty());
    EXPECT_TRUE(p.labels.Get("service_name").starts_with("unknown_service")) << p.labels.ToString();
    auto series = pprof::SplitBySeries(p.profile, p.labels);
    ASSERT_TRUE(series.ok()) << series.status();
    for (const auto& s : *series) ids.insert(s.type.ID());
  }
  EXPECT_EQ(ids, (std::set<std::string>{"process_cpu:cpu:nanoseconds:cpu:nanoseconds",
                                        "off_cpu:off_cpu:nanoseconds::"}));

  // Unsymbolised native frames keep their mapping and address.
  bool has_unsymbolised = false;
  for (const IngestProfile& p : *out) {
    for (const pprof::Location& loc : p.profile.locations) {
      has_unsymbolised |= loc.line_count == 0 && loc.mapping_id != 0 && loc.address != 0;
    }
  }
  EXPECT_TRUE(has_unsymbolised);
}

TEST(Otlp, JsonBodyGivesTheSameProfiles) {
  EMBERS_REQUIRE_TESTDATA(dir);
  const std::string body =
      ReadFileOrDie(dir + "/otlp/otel-ebpf-profile.ExportProfilesServiceRequest.pb");
  auto request = ParseOtlpHttpBody("application/protobuf", body);
  ASSERT_TRUE(request.ok());
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(*request, &json).ok());
  auto from_json = ParseOtlpHttpBody("application/json; charset=utf-8", json);
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  auto a = ConvertOtlp(*request);
  auto b = ConvertOtlp(*from_json);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(Totals(*a), Totals(*b));
}

TEST(Otlp, ServiceNamesAndErrors) {
  namespace otel = ::opentelemetry::proto::profiles::v1development;
  OtlpExportRequest req;
  auto* dict = req.mutable_dictionary();
  for (const char* s : {"", "samples", "count", "cpu", "nanoseconds", "main", "service.name",
                        "svc-a", "thread.name", "t1"}) {
    dict->add_string_table(s);
  }
  dict->add_mapping_table();
  auto* fn = dict->add_function_table();
  fn->set_name_strindex(5);
  auto* loc = dict->add_location_table();
  loc->add_lines()->set_function_index(0);
  dict->add_stack_table()->add_location_indices(0);
  auto* svc_attr = dict->add_attribute_table();
  svc_attr->set_key_strindex(6);
  svc_attr->mutable_value()->set_string_value("svc-a");
  auto* thread_attr = dict->add_attribute_table();
  thread_attr->set_key_strindex(8);
  thread_attr->mutable_value()->set_string_value_strindex(9);

  auto* rp = req.add_resource_profiles();
  auto* kv = rp->mutable_resource()->add_attributes();
  kv->set_key("process.executable.name");
  kv->mutable_value()->set_string_value("node");
  otel::Profile* p = rp->add_scope_profiles()->add_profiles();
  p->mutable_sample_type()->set_type_strindex(1);
  p->mutable_sample_type()->set_unit_strindex(2);
  p->mutable_period_type()->set_type_strindex(3);
  p->mutable_period_type()->set_unit_strindex(4);
  p->set_period(10'000'000);
  p->set_time_unix_nano(1'700'000'000'000'000'000ULL);
  auto* s1 = p->add_samples();  // service from the sample attribute
  s1->add_values(2);
  s1->add_attribute_indices(0);
  s1->add_attribute_indices(1);
  auto* s2 = p->add_samples();  // no service: the resource fallback
  s2->add_timestamps_unix_nano(1);
  s2->add_timestamps_unix_nano(2);
  s2->add_timestamps_unix_nano(3);

  auto out = ConvertOtlp(req);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].labels.Get("service_name"), "svc-a");
  EXPECT_EQ((*out)[0].labels.Get("__name__"), "process_cpu");
  EXPECT_EQ((*out)[0].labels.Get("process.executable.name"), "node");
  EXPECT_EQ((*out)[0].profile.Total(0), 20'000'000);
  ASSERT_EQ((*out)[0].profile.labels.size(), 1u);  // thread.name, not service.name
  EXPECT_EQ((*out)[0].profile.String((*out)[0].profile.labels[0].str), "t1");
  EXPECT_EQ((*out)[1].labels.Get("service_name"), "unknown_service:node");
  EXPECT_EQ((*out)[1].profile.Total(0), 30'000'000);

  // Broken references are 400s naming what is wrong.
  OtlpExportRequest bad = req;
  bad.mutable_resource_profiles(0)
      ->mutable_scope_profiles(0)
      ->mutable_profiles(0)
      ->mutable_samples(0)
      ->set_stack_index(7);
  auto e = ConvertOtlp(bad);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find("stack index 7"), absl::string_view::npos);

  OtlpExportRequest no_dict;
  no_dict.add_resource_profiles();
  EXPECT_EQ(ConvertOtlp(no_dict).status().code(), absl::StatusCode::kInvalidArgument);
  OtlpExportRequest no_rp;
  no_rp.mutable_dictionary();
  EXPECT_EQ(ConvertOtlp(no_rp).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Otlp, HttpBodyContentTypes) {
  auto unsupported = ParseOtlpHttpBody("text/plain", "x");
  ASSERT_FALSE(unsupported.ok());
  EXPECT_EQ(HttpStatusOverride(unsupported.status()), 415);
  auto bad_proto = ParseOtlpHttpBody("application/x-protobuf", "\xff\xff\xff");
  ASSERT_FALSE(bad_proto.ok());
  EXPECT_FALSE(HttpStatusOverride(bad_proto.status()).has_value());
  auto bad_json = ParseOtlpHttpBody("application/json", "{not json");
  ASSERT_FALSE(bad_json.ok());
  EXPECT_EQ(bad_json.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace embers::ingest
