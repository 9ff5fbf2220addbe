CREATE SCHEMA IF NOT EXISTS "reaper";
--> statement-breakpoint
CREATE TABLE "reaper"."processed_events" (
	"event_id" uuid PRIMARY KEY NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL
);
