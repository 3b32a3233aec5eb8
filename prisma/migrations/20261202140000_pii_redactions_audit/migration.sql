-- AlterTable
ALTER TABLE "turns" ADD COLUMN     "redactions" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "action" VARCHAR(32) NOT NULL,
    "keyId" VARCHAR(64) NOT NULL,
    "keyName" VARCHAR(64),
    "route" VARCHAR(300) NOT NULL,
    "callSid" VARCHAR(64),
    "data" JSONB,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_events_at_id_idx" ON "audit_events"("at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "audit_events_callSid_idx" ON "audit_events"("callSid");

