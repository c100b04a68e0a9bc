"""The live runtime: hub, queue, sink, executor, outbox drainer, runner and scheduler."""
