#include "providers/sources/sidekiq_source.h"

#include <algorithm>

namespace dynoherd::providers::sources {

namespace {

model::QueueLatency QueueOf(const redis::SidekiqQueueLatency& read) {
  model::QueueLatency queue;
  queue.queue = read.queue;
  queue.size = read.size;
  if (!read.status.ok()) {
    queue.error = read.status.message();
  } else if (read.oldest_lacks_enqueued_at) {
    // Sidekiq would count 0 here, which could scale down a formation with a backlog.
    queue.error = "queue \"" + read.queue + "\": the oldest job has no enqueued_at";
  } else {
    queue.latency_seconds = read.latency_seconds;
  }
  return queue;
}

}  // namespace

model::FormationLatency FormationLatencyOf(const std::vector<redis::SidekiqQueueLatency>& queues) {
  model::FormationLatency out;
  double highest = 0;
  std::string errors;
  for (const auto& read : queues) {
    model::QueueLatency queue = QueueOf(read);
    out.sample_count += queue.size;
    if (queue.latency_seconds) {
      highest = std::max(highest, *queue.latency_seconds);
    } else {
      errors += (errors.empty() ? "" : "; ") + queue.error;
    }
    out.queues.push_back(std::move(queue));
  }
  if (errors.empty()) {
    out.value = highest;
  } else {
    out.unknown_reason = "sidekiq: " + errors;
  }
  return out;
}

std::unique_ptr<SidekiqSource> SidekiqSource::Create(
    const std::vector<const spec::FormationSpec*>& formations, redis::RedisConnections& connections,
    bool reads_across_passes) {
  std::map<std::string, Reading> readings;
  for (const auto* f : formations) {
    Reading reading = Prepare(*f->latency, connections);
    PrepareLoad(*f, reads_across_passes, reading);
    readings.emplace(f->type, std::move(reading));
  }
  return std::unique_ptr<SidekiqSource>(new SidekiqSource(std::move(readings)));
}

SidekiqSource::Reading SidekiqSource::Prepare(const spec::LatencySpec& latency,
                                              redis::RedisConnections& connections) {
  Reading reading;
  // The loader has checked both; a spec built by hand may still be wrong.
  Result<spec::RedisEndpoint> endpoint = spec::ParseRedisUrl(latency.url);
  if (!endpoint.ok()) {
    reading.refused = endpoint.status();
    return reading;
  }
  Result<redis::SidekiqQueueReader> reader =
      redis::SidekiqQueueReader::Create({latency.key_namespace, latency.queues});
  if (!reader.ok()) {
    reading.refused = reader.status();
    return reading;
  }
  reading.reader.emplace(std::move(reader).value());
  auto connection = connections.Acquire(
      *endpoint, {.verify = latency.tls_verify, .ca_file = latency.tls_ca_file});
  if (!connection.ok()) {
    reading.refused = connection.status();
    return reading;
  }
  reading.connection = std::move(connection).value();
  return reading;
}

void SidekiqSource::PrepareLoad(const spec::FormationSpec& formation, bool reads_across_passes,
                                Reading& reading) {
  if (!formation.autoscale || formation.autoscale->mode != spec::AutoscaleMode::kCapacity) return;
  if (!reads_across_passes) {
    reading.load_not_measured =
        "sidekiq: the load is the change between two reads of a running `dynoherd run`; this "
        "command reads once";
    return;
  }
  Result<redis::SidekiqProcessReader> processes =
      redis::SidekiqProcessReader::Create(formation.latency->key_namespace);
  if (!processes.ok()) {
    reading.load_not_measured = "sidekiq: " + processes.status().message();
    return;
  }
  reading.queues = formation.latency->queues;
  reading.processes.emplace(std::move(processes).value());
  reading.meter.emplace(formation.latency->window);
}

void SidekiqSource::MeasureLoad(Reading& reading,
                                const std::vector<redis::SidekiqQueueLatency>& queues,
                                TimePoint now, model::FormationLatency& latency) {
  if (!reading.meter) {
    latency.load_unknown_reason = reading.load_not_measured;
    return;
  }
  Result<model::FormationLoad> load = ReadLoad(reading, queues, now);
  if (load.ok()) {
    latency.load = *load;
  } else {
    latency.load_unknown_reason = "sidekiq: " + load.status().message();
  }
}

Result<model::FormationLoad> SidekiqSource::ReadLoad(
    Reading& reading, const std::vector<redis::SidekiqQueueLatency>& queues, TimePoint now) {
  int64_t queued = 0;
  for (const auto& queue : queues) {
    if (!queue.status.ok()) {
      return Status::Unavailable("the size of queue \"" + queue.queue + "\" is unknown");
    }
    queued += queue.size;
  }
  Result<redis::SidekiqProcesses> processes = reading.connection->With(
      [&reading](redis::RedisConnection& redis) { return reading.processes->Read(redis); });
  if (!processes.ok()) return processes.status();
  Result<SidekiqLoadSample> sample = FormationSample(*processes, reading.queues, queued, now);
  if (!sample.ok()) {
    reading.meter->Reset();  // the counter's change since the last read is not the formation's
    return sample.status();
  }
  return reading.meter->Add(*sample);
}

std::map<std::string, model::FormationLatency> SidekiqSource::Read(
    const std::vector<const spec::FormationSpec*>& formations, const model::AppState&,
    TimePoint now) {
  std::map<std::string, model::FormationLatency> out;
  for (const auto* f : formations) {
    model::FormationLatency& latency = out[f->type];
    auto it = readings_.find(f->type);
    if (it == readings_.end()) {
      latency.unknown_reason = "sidekiq: formation not configured for this source";
      continue;
    }
    Reading& reading = it->second;
    if (!reading.connection) {
      latency.unknown_reason = "sidekiq: " + reading.refused.message();
      continue;
    }
    Result<std::vector<redis::SidekiqQueueLatency>> queues =
        reading.connection->With([&reading, now](redis::RedisConnection& redis) {
          return reading.reader->Read(redis, now);
        });
    if (!queues.ok()) {
      latency.unknown_reason = "sidekiq: " + queues.status().message();
      continue;
    }
    latency = FormationLatencyOf(*queues);
    MeasureLoad(reading, *queues, now, latency);
  }
  return out;
}

}  // namespace dynoherd::providers::sources
