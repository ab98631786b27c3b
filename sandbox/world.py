"""The sandbox world: a scenario brought to life as a cluster that changes over time.

CONTRACT (implemented by the world work; the HTTP layer and the Prometheus layer
code against exactly these names):

    world = World(scenario, speed=1.0)        # loads objects, shifts times, derives state
    world.store                               # sandbox.store.ObjectStore (the objects)
    world.clock                               # SandboxClock: .now() -> aware UTC datetime,
                                              #   .now_ts() -> float unix seconds, .speed,
                                              #   .offset (timedelta file time -> served time)
    world.sync()                              # run the controllers up to clock.now(); cheap when
                                              #   nothing changed; call (under store.lock) before
                                              #   every read and after every write
    world.pod_logs(ns, pod, container=None, previous=False) -> str
                                              #   raises store.NotFound / store.Invalid
                                              #   (message like kube-apiserver's)
    world.evict(ns, pod) -> None              #   the eviction subresource
    world.series(start_ts, end_ts) -> list[Series]
                                              #   every metric series with its samples in
                                              #   [start_ts, end_ts] (unix seconds)
    world.faults_present() -> dict[str, bool]
    world.healthy(ref: str) -> bool           #   SCENARIOS.md's definition, ref "Kind/ns/name"
    world.executed                            #   list of (verb, ref) writes seen, for `forbidden`
"""
