-- Another user's tokens: a member who lists them or creates one gets 403.
-- Any member can list the users, so the 404 this answered before hid
-- nothing. An unknown user is 404 to everyone, and checked first.
-- (DELETE /tokens/{id} keeps 404 for another user's token: members cannot
-- list other users' tokens, so token ids stay unknown to them.)
CREATE OR REPLACE FUNCTION api_token_owner_check(p_user_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM users WHERE id = p_user_id) THEN
    PERFORM api_fail('C4404', 'No user has this id.');
  END IF;
  IF NOT api_caller_is_admin() AND p_user_id IS DISTINCT FROM api_caller() THEN
    PERFORM api_fail('C4403', 'Only an admin or the user themself may list or create this user''s tokens.');
  END IF;
END $$;
