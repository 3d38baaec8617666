-- Who wrote each post, by user id: a marketer may change only their own posts (admins
-- any). Earlier posts are matched to their author by the e-mail they recorded. Mirrors
-- migrations/sqlite/0008_post_authors.sql.

ALTER TABLE posts ADD COLUMN created_by_id uuid REFERENCES users (id) ON DELETE SET NULL;
UPDATE posts p SET created_by_id = u.id FROM users u WHERE u.email = p.created_by;
