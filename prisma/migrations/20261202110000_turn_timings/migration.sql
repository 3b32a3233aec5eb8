-- Stage breakdown of each agent turn's latency (ms per stage), stored with the turn.
ALTER TABLE "turns" ADD COLUMN     "timings" JSONB;
