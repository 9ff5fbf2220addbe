CREATE TABLE "lifecycle"."key_pairs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"key_pair_id" text GENERATED ALWAYS AS ('key-' || right(replace(id::text, '-', ''), 17)) STORED NOT NULL,
	"tenant_id" text NOT NULL,
	"region" text NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"fingerprint" text NOT NULL,
	"public_key" text NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "key_pairs_name_key" ON "lifecycle"."key_pairs" USING btree ("tenant_id","region","name");--> statement-breakpoint
CREATE UNIQUE INDEX "key_pairs_key_pair_id_key" ON "lifecycle"."key_pairs" USING btree ("key_pair_id");