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

-- Products and a few deals across the stages, priced with lines.
INSERT INTO lookup_items (kind, label, position, unit_price) VALUES
  ('product', 'Consulting day', 1, 850.00),
  ('product', 'Annual licence', 2, 1200.00),
  ('product', 'Training session', 3, NULL);

INSERT INTO opportunities (account_id, name, owner_id, status_id, close_date, forecast_id, probability, source_id,
                           next_step, created_by)
SELECT a.id, d.name, a.owner_id, s.id, current_date + d.days, f.id, s.probability, a.source_id, d.next_step, a.owner_id
FROM (VALUES
  ('Acme Ltd', 'Acme renewal', 'Negotiation', 'Commit', 14, 'Send final quote'),
  ('Acme Ltd', 'Acme training', 'Qualified', 'Pipeline', 60, 'Book a call'),
  ('Globex plc', 'Globex rollout', 'Proposal', 'Best case', 30, 'Demo to the board'),
  ('Initech', 'Initech pilot', 'New', 'Pipeline', 42, NULL),
  ('Umbrella Holdings', 'Umbrella upgrade', 'Won', 'Commit', -10, NULL),
  ('Stark Industries', 'Stark consulting', 'Lost', 'Omitted', -20, NULL)
) AS d (account, name, status, forecast, days, next_step)
JOIN accounts a ON a.name = d.account
JOIN lookup_items s ON s.kind = 'opportunity-status' AND s.label = d.status
JOIN lookup_items f ON f.kind = 'opportunity-forecast' AND f.label = d.forecast;

INSERT INTO opportunity_lines (opportunity_id, product_id, quantity, unit_price, position)
SELECT o.id, p.id, l.quantity, coalesce(l.price, p.unit_price), l.position
FROM (VALUES
  ('Acme renewal', 'Annual licence', 10, NULL, 1),
  ('Acme renewal', 'Consulting day', 2.5, NULL, 2),
  ('Acme training', 'Training session', 3, 450.00, 1),
  ('Globex rollout', 'Annual licence', 25, 1100.00, 1),
  ('Initech pilot', 'Consulting day', 5, NULL, 1),
  ('Umbrella upgrade', 'Annual licence', 4, NULL, 1),
  ('Stark consulting', 'Consulting day', 12, NULL, 1)
) AS l (deal, product, quantity, price, position)
JOIN opportunities o ON o.name = l.deal
JOIN lookup_items p ON p.kind = 'product' AND p.label = l.product;
