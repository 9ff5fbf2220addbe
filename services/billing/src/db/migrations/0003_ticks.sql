CREATE TABLE "billing"."ticks" (
	"id" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"interval_start" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "ticks_one_row" CHECK ("billing"."ticks"."id")
);
--> statement-breakpoint
INSERT INTO "billing"."ticks" ("interval_start") VALUES ('-infinity');
