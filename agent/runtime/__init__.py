"""`liftguard run`: the parts of the agent wired together.

Concurrency model (threads, and why each exists)
-------------------------------------------------

    liftguard-poller    ControllerPart: Modbus transactions block for up to their deadline, so
                        the poller's anchored schedule runs on its own thread. Output: one
                        ControllerSample per poll into a DropOldestQueue.
    liftguard-sensors   SensorPump: drains every accel/noise BlockSource at twice the rate of
                        the tightest chip FIFO deadline (sockets and replay at 20 Hz).
                        Output: (arrival time, SampleBlock) into a DropOldestQueue.
    liftguard-analysis  AnalysisWorker: the DSP of a finished trip (Welch PSDs, order lines,
                        ride weighting) takes tens of ms; it runs here so the event rules never
                        wait for it. Input/output: small DropOldestQueues of trips/results.
    liftguard-uplink    agent.uplink (paho-mqtt driven from its own loop): sends the durable
                        outbox, receives signed commands, re-sends unacknowledged alarms.
    main thread         the runtime loop at 20 Hz (Agent.run): event rules on each sample,
                        sensor blocks into the per-stream rings, trip findings into the wear
                        trackers, alarms, health, status LED, button, telemetry, watchdog.

All decisions (rules, alarm raise/clear, health) are made on the main thread, so they need no
locks of their own; the alarm service and outbox are thread-safe because commands arrive on
the uplink thread. Queues between threads are bounded and drop their oldest entry when full
(counted in the `state` telemetry): a slow consumer can lose data but never grow memory.

Each producer stamps its progress; the systemd watchdog is pinged only while the loop and
every producer moved within `[runtime] watchdog_stall_s`, so a hung bus call stops the pings.
"""
