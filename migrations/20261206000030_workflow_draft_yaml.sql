-- The text a draft was last saved from in the console's editor, comments and layout included;
-- NULL when the draft came from elsewhere (an import, a restore, an MCP tool), and then the
-- console writes YAML from the JSON draft.
ALTER TABLE workflows ADD COLUMN draft_yaml TEXT;
