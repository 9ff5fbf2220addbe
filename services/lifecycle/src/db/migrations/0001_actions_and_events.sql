CREATE TABLE "lifecycle"."outbox" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "lifecycle"."outbox_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_id" uuid NOT NULL,
	"subject" text NOT NULL,
	"ordering_key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"request_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lifecycle"."processed_events" (
	"event_id" uuid PRIMARY KEY NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "lifecycle"."server_events" ADD COLUMN "event_id" uuid;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "fail_pending" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "server_events_event_key" ON "lifecycle"."server_events" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "servers_tags_idx" ON "lifecycle"."servers" USING gin ("tags");