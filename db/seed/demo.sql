-- Demo data for a new database (make run): a sales team and its accounts.
INSERT INTO users (name, email, role) VALUES
  ('Dana Seller', 'dana@example.com', 'member'),
  ('Sam Closer', 'sam@example.com', 'member');

INSERT INTO accounts (name, source_id, owner_id, website, phone, notes)
SELECT a.name, (SELECT id FROM lookup_items WHERE kind = 'source' AND label = a.source),
       (SELECT id FROM users WHERE email = a.owner), a.website, a.phone, a.notes
FROM (VALUES
  ('Acme Ltd', 'Website', 'dana@example.com', 'https://acme.example', '+44 20 7946 0001', 'Long-standing customer.'),
  ('Globex plc', 'Referral', 'sam@example.com', 'https://globex.example', '+44 161 496 0002', NULL),
  ('Initech', 'Trade show', 'dana@example.com', NULL, '+44 113 496 0003', 'Met at the spring fair.'),
  ('Umbrella Holdings', 'Cold call', 'sam@example.com', 'https://umbrella.example', NULL, NULL),
  ('Stark Industries', 'Website', 'admin@example.com', 'https://stark.example', NULL, 'Wants a demo in Q1.')
) AS a (name, source, owner, website, phone, notes);
