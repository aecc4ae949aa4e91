-- The byte spans ([start, end) pairs, flattened) of the org members that a
-- unit decodes; NULL for chunk units and units that read their whole range.
ALTER TABLE job_units ADD COLUMN src_spans int8[];
