-- The standard category (exchange format) a service is compared under, when staff set one;
-- without it the category is guessed from the service's name and group.
ALTER TABLE services ADD COLUMN category TEXT;
