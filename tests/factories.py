import factory
from django.contrib.auth.models import Group

from inventory.models import Category, Product
from suppliers.models import Supplier
from users.models import Organization, Role, User

PASSWORD = "correct-horse-battery-staple"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Shop {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    organization = factory.SubFactory(OrganizationFactory)
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        role = extracted if extracted is not None else Role.ADMIN
        if create and role:
            self.groups.add(Group.objects.get(name=role))


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Category {n}")


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Supplier {n}")
    contact_email = factory.LazyAttribute(lambda s: f"orders{s.name.split()[-1]}@example.com")


class ProductFactory(factory.django.DjangoModelFactory):
    """A product with no stock: give it stock through `stock.services` (see `stocked`)."""

    class Meta:
        model = Product

    organization = factory.SubFactory(OrganizationFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    price = "10.00"
